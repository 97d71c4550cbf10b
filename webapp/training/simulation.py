"""A simulated editor closing the loop end to end, through the real services.

Used by tests/test_feedback_loop.py and benchmarks/feedback_loop.py to show
that the loop works: the parent version generates (real generation jobs run
by the real runner), an editor rates high the candidates with a trait and low
the others (review services), one training job fine-tunes on those ratings
(training runner), and the child generates again with the same prompts and
seeds. The trait rate of both is measured on those same requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from webapp.campaigns.models import Campaign
from webapp.generation.models import Candidate, GenerationJob, JobStatus
from webapp.models_registry.models import ModelVersion


def ends_with_question(text: str) -> bool:
    """The default trait: the copy ends with a question mark (any width)."""
    return text.rstrip().endswith(("?", "？"))


def mentions_free_shipping(text: str) -> bool:
    return "free shipping" in text.casefold() or "包邮" in text


TRAITS: dict[str, Callable[[str], bool]] = {
    "question": ends_with_question,
    "free_shipping": mentions_free_shipping,
}


@dataclass
class LoopResult:
    trait: str
    content_type: str
    jobs: int
    per_job: int
    rate_before: float
    rate_after: float
    train_candidates: int
    train_trait_candidates: int
    training_seconds: float
    generation_seconds_before: float
    generation_seconds_after: float
    child: ModelVersion | None = None
    job_metrics: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"trait {self.trait!r} on {self.content_type}: "
            f"{self.rate_before:.1%} of the parent's candidates -> "
            f"{self.rate_after:.1%} of the child's, same {self.jobs} prompts x "
            f"{self.per_job} seeds; trained on {self.train_candidates} rated "
            f"candidates ({self.train_trait_candidates} with the trait) in "
            f"{self.training_seconds:.1f} s"
        )


def _run_jobs(
    campaigns: list[Campaign],
    user: AbstractBaseUser,
    version: ModelVersion,
    content_type: str,
    seeds: list[int],
    per_job: int,
    params: dict[str, Any],
) -> tuple[list[GenerationJob], float]:
    """One generation job per seed on ``version``, run by the real runner."""
    from django.db import transaction

    from webapp.generation.runner import run_job
    from webapp.generation.services import do_launch_job

    jobs = []
    started = time.perf_counter()
    for number, seed in enumerate(seeds):
        with transaction.atomic():
            job = do_launch_job(
                campaign=campaigns[number % len(campaigns)],
                content_type=content_type,
                user=user,
                num_candidates=per_job,
                params={**params, "seed": seed},
                model_version=version,
            )
        # The queued task (sent on commit) and this call may both run it; the
        # claim makes sure the job is generated once.
        run_job(job.pk)
        job.refresh_from_db()
        if job.status != JobStatus.SUCCEEDED:
            raise RuntimeError(
                f"generation job {job.pk} {job.status}: {job.error_message}"
            )
        jobs.append(job)
    return jobs, time.perf_counter() - started


def _rate(jobs: list[GenerationJob], trait: Callable[[str], bool]) -> float:
    texts = list(Candidate.objects.filter(job__in=jobs).values_list("text", flat=True))
    return sum(1 for text in texts if trait(text)) / max(1, len(texts))


def run_feedback_loop(
    *,
    campaigns: list[Campaign],
    admin: AbstractBaseUser,
    editor: AbstractBaseUser,
    parent: ModelVersion,
    trait: str = "question",
    content_type: str = "email_subject",
    jobs: int = 4,
    per_job: int = 24,
    seed: int = 11,
    training_options: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> LoopResult:
    """Generate with parent, rate by trait, fine-tune once, regenerate, measure.

    Job i uses campaigns[i % len(campaigns)] and seed ``seeds[i]``; the child
    gets exactly the same jobs, so the two rates are measured on the same
    prompts and seeds.
    """
    from webapp.review.services import do_decide, do_rate
    from webapp.training.runner import run_training
    from webapp.training.services import do_launch_training

    test = TRAITS[trait]
    params = {"max_new_tokens": 48, **(params or {})}
    seeds = [seed * 1000 + i * 97 for i in range(jobs)]
    before, gen_before = _run_jobs(
        campaigns, admin, parent, content_type, seeds, per_job, params
    )
    candidates = list(Candidate.objects.filter(job__in=before).order_by("pk"))
    with_trait = 0
    for candidate in candidates:
        if test(candidate.text):
            with_trait += 1
            do_rate(candidate, editor, 5)
            do_decide(candidate, editor, "approve")
        else:
            do_rate(candidate, editor, 1)
            do_decide(candidate, editor, "reject")
    options = {"max_steps": 60, "batch_size": 16, "replay_ratio": 1.0}
    options.update(training_options or {})
    options.setdefault("dataset", {})
    options["dataset"] = {
        "campaigns": [campaign.pk for campaign in campaigns],
        "content_types": [content_type],
        **options["dataset"],
    }
    job = do_launch_training(
        organization=campaigns[0].organization,
        user=admin,
        base_version=parent,
        options=options,
    )
    started = time.perf_counter()
    outcome = run_training(job.pk)
    training_seconds = time.perf_counter() - started
    job.refresh_from_db()
    if outcome != "succeeded":
        raise RuntimeError(f"training job {job.pk} {outcome}: {job.error_message}")
    child = job.resulting_version
    after, gen_after = _run_jobs(
        campaigns, admin, child, content_type, seeds, per_job, params
    )
    return LoopResult(
        trait=trait,
        content_type=content_type,
        jobs=jobs,
        per_job=per_job,
        rate_before=_rate(before, test),
        rate_after=_rate(after, test),
        train_candidates=len(candidates),
        train_trait_candidates=with_trait,
        training_seconds=training_seconds,
        generation_seconds_before=gen_before,
        generation_seconds_after=gen_after,
        child=child,
        job_metrics=dict(job.metrics),
    )
