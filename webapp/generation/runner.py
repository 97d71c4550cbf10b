"""What a worker does with one generation job: claim, generate in batches, finish.

The claim is a conditional UPDATE (queued, or running with an expired lease,
becomes running with this worker's lease), so two deliveries of the same task
never both generate. While it runs, a small thread renews the lease; when the
worker process dies the renewals stop, the lease runs out, and the next worker
(or ``recover_stale_jobs``) claims the job again and generates only the
candidate indices that are still missing. Candidates are unique per
(job, index), so even a race between two workers cannot duplicate one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from webapp.generation.models import Candidate, GenerationJob, JobStatus
from webapp.generation.safety import SafetyRules, check_candidate

logger = logging.getLogger(__name__)

# Transient errors: the task is retried (with backoff) instead of failing the job.
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
# A job whose worker died this many times is failed instead of resumed again:
# a job that kills its worker (out of memory, hard time limit) would otherwise
# loop forever.
MAX_ATTEMPTS = 3
# Extra passes over indices the generator did not return (it drops a text in
# which a banned word appeared only after the placeholders were filled in).
MAX_REFILL_PASSES = 3
SEED_MAX = 2**31 - 1


class ModelLoadError(Exception):
    pass


def lease_seconds() -> int:
    return max(2, settings.GENERATION_LEASE_SECONDS)


def make_owner(task_id: str | None) -> str:
    """A name for this attempt: host, process and a random part."""
    return (
        f"{socket.gethostname()}:{os.getpid()}:{(task_id or '-')[:8]}:"
        + (uuid.uuid4().hex[:8])
    )


def claim_job(job_id: int, owner: str) -> GenerationJob | None:
    """Take the job in one conditional UPDATE; None when someone else has it."""
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | Q(
        status=JobStatus.RUNNING, lease_expires_at__lt=now
    )
    claimed = (
        GenerationJob.objects.filter(pk=job_id)
        .filter(claimable)
        .update(
            status=JobStatus.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            attempts=F("attempts") + 1,
            started_at=Coalesce(F("started_at"), Value(now)),
            progress_message="starting",
        )
    )
    if claimed != 1:
        return None
    return GenerationJob.objects.select_related("model_version").get(pk=job_id)


def renew_lease(job_id: int, owner: str) -> bool:
    return bool(
        GenerationJob.objects.filter(
            pk=job_id, lease_owner=owner, status=JobStatus.RUNNING
        ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds()))
    )


class LeaseKeeper(threading.Thread):
    """Renews the lease every third of its length while generation runs.

    A batch can take longer than the lease; the renewals come from this thread
    so the lease only runs out when the process is gone.
    """

    def __init__(self, job_id: int, owner: str):
        super().__init__(name=f"lease-{job_id}", daemon=True)
        self.job_id = job_id
        self.owner = owner
        self.lost = threading.Event()
        self._stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopping.wait(lease_seconds() / 3):
                try:
                    if not renew_lease(self.job_id, self.owner):
                        self.lost.set()
                        return
                except DatabaseError:
                    logger.warning("could not renew lease of job %s", self.job_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)


def _set_terminal(
    job: GenerationJob, owner: str, status: str, count: int | None = None, **fields
) -> bool:
    if count is None:
        count = Candidate.objects.filter(job_id=job.pk).count()
    fields.setdefault(
        "progress_message", f"{count} of {job.total_candidates} candidates written"
    )
    return bool(
        GenerationJob.objects.filter(
            pk=job.pk, lease_owner=owner, status=JobStatus.RUNNING
        ).update(
            status=status,
            finished_at=timezone.now(),
            lease_expires_at=None,
            progress=count / job.total_candidates,
            **fields,
        )
    )


def fail_job(job: GenerationJob, owner: str, message: str) -> None:
    logger.warning("job %s failed: %s", job.pk, message)
    _set_terminal(job, owner, JobStatus.FAILED, error_message=message)


def release_lease(job_id: int, owner: str) -> None:
    """Let another attempt claim the job at once (before a retry)."""
    try:
        GenerationJob.objects.filter(pk=job_id, lease_owner=owner).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
    except DatabaseError:
        logger.warning("could not release the lease of job %s", job_id)


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    name = type(exc).__name__
    text = str(exc).lower()
    return (
        name == "OutOfMemoryError"
        or "out of memory" in text
        or ("can't allocate memory" in text)
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} seconds"
    return f"{seconds / 60:g} minutes"


def run_job(
    job_id: int, task_id: str | None = None, soft_time_limit: float | None = None
) -> str:
    """Run one job to its end (or to cancellation); returns what happened."""
    owner = make_owner(task_id)
    job = claim_job(job_id, owner)
    if job is None:
        status = (
            GenerationJob.objects.filter(pk=job_id)
            .values_list("status", flat=True)
            .first()
        )
        logger.info("job %s not claimed (status %s)", job_id, status)
        return f"not claimed ({status or 'no such job'})"
    keeper = LeaseKeeper(job.pk, owner)
    keeper.start()
    try:
        return _generate(job, owner, keeper)
    except SoftTimeLimitExceeded:
        limit = soft_time_limit or settings.GENERATION_SOFT_TIME_LIMIT
        fail_job(
            job,
            owner,
            f"the job ran past its time limit of {_duration(limit)} and was "
            "stopped; the finished candidates were kept. Ask for fewer candidates "
            "or fewer new tokens.",
        )
        return "time limit"
    except ModelLoadError as exc:
        fail_job(job, owner, str(exc))
        return "model load failed"
    except TRANSIENT_DB_ERRORS:
        release_lease(job.pk, owner)
        raise
    except Exception as exc:  # noqa: BLE001 - every other error ends the job
        if _is_out_of_memory(exc):
            fail_job(
                job,
                owner,
                "the worker ran out of memory while generating; the finished "
                "candidates were kept. Ask for fewer candidates or fewer new "
                "tokens, or use a smaller model.",
            )
            return "out of memory"
        if isinstance(exc, ValueError):
            # The generator's ValueErrors describe a problem with the request
            # (e.g. a banned word inside the product name).
            fail_job(job, owner, f"the generator refused the request: {exc}")
            return "refused"
        logger.exception("job %s failed", job.pk)
        fail_job(
            job, owner, f"generation failed unexpectedly ({type(exc).__name__}: {exc})"
        )
        return "error"
    finally:
        keeper.stop()


def _load(job: GenerationJob):
    from generator.checkpoint import CheckpointError
    from webapp.generation.model_cache import get_copywriter

    version = job.model_version
    try:
        return get_copywriter(version)
    except (CheckpointError, OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(
            f"model {version.name} could not be loaded ({exc}); an admin can "
            "activate another model version and launch the job again"
        ) from exc


def _batches(job: GenerationJob, missing: list[int]) -> list[list[int]]:
    """Missing indices grouped per persona variant, in generate() sized batches."""
    size = max(1, settings.GENERATION_BATCH_SIZE)
    if job.params.get("num_beams", 1) > 1:
        # Beam search returns the top beams of one search; splitting it would
        # return the same texts in every batch.
        size = job.total_candidates
    batches: list[list[int]] = []
    for variant in range(len(job.variants)):
        low, high = variant * job.num_candidates, (variant + 1) * job.num_candidates
        mine = [i for i in missing if low <= i < high]
        batches.extend(mine[i : i + size] for i in range(0, len(mine), size))
    return batches


def _generate(job: GenerationJob, owner: str, keeper: LeaseKeeper) -> str:
    copywriter, load_seconds = _load(job)
    if load_seconds:
        GenerationJob.objects.filter(pk=job.pk).update(
            load_seconds=F("load_seconds") + load_seconds
        )
    rules = SafetyRules.from_dict(job.safety_rules)
    base_seed = int(job.params.get("seed") or 0)
    written = 0
    for refill in range(MAX_REFILL_PASSES):
        done = set(
            Candidate.objects.filter(job_id=job.pk).values_list("index", flat=True)
        )
        written = len(done)
        missing = [i for i in range(job.total_candidates) if i not in done]
        if not missing:
            break
        for batch in _batches(job, missing):
            if keeper.lost.is_set():
                return "lost"
            variant = job.variants[batch[0] // job.num_candidates]
            # Seeds follow the index, so a resumed batch writes what the
            # first attempt would have written.
            seed = (base_seed + batch[0] + refill * 100_003) % SEED_MAX
            params = {**job.params, "num_return_sequences": len(batch), "seed": seed}
            started = time.perf_counter()
            generated = copywriter.generate(variant["spec"], **params)
            elapsed = time.perf_counter() - started
            # One transaction (one commit) per batch: the candidates, the
            # progress, the lease renewal and the cancel check.
            with transaction.atomic():
                _save_batch(job, variant, batch, generated, rules)
                written = Candidate.objects.filter(job_id=job.pk).count()
                state = _batch_boundary(job, owner, written, elapsed)
            if state != "go":
                return state
    if written < job.total_candidates:
        fail_job(
            job,
            owner,
            f"only {written} of {job.total_candidates} candidates could be written "
            "without a banned word; the others were dropped. Try again or loosen "
            "the banned words.",
        )
        return "incomplete"
    _set_terminal(
        job, owner, JobStatus.SUCCEEDED, count=written, progress_message="done"
    )
    return "succeeded"


def _batch_boundary(job: GenerationJob, owner: str, written: int, elapsed: float):
    """After a batch: one UPDATE writes progress, renews the lease and checks
    that the job is still this worker's and not asked to cancel.

    Returns 'go', 'cancelled' (the finished candidates stay) or 'lost'.
    """
    renewed = GenerationJob.objects.filter(
        pk=job.pk, lease_owner=owner, status=JobStatus.RUNNING, cancel_requested=False
    ).update(
        progress=min(1.0, written / job.total_candidates),
        progress_message=f"{written} of {job.total_candidates} candidates written",
        generate_seconds=F("generate_seconds") + elapsed,
        lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds()),
    )
    if renewed:
        return "go"
    GenerationJob.objects.filter(pk=job.pk, lease_owner=owner).update(
        generate_seconds=F("generate_seconds") + elapsed
    )
    if _set_terminal(job, owner, JobStatus.CANCELLED, count=written):
        return "cancelled"
    return "lost"


def _save_batch(job, variant, batch, generated, rules: SafetyRules) -> None:
    rows = []
    for index, candidate in zip(batch, generated, strict=False):
        flags = check_candidate(candidate.text, job.content_type, rules)
        rows.append(
            Candidate(
                job_id=job.pk,
                organization_id=job.organization_id,
                campaign_id=job.campaign_id,
                index=index,
                content_type=job.content_type,
                persona_id=variant["persona_id"],
                text=candidate.text,
                score=float(candidate.mean_logprob),
                token_count=candidate.token_count,
                model_version_id=job.model_version_id,
                seed=candidate.seed,
                params={**candidate.params, "batch_index": candidate.index},
                prompt_dropped=list(candidate.prompt_dropped),
                safety_flags=flags,
                flagged=bool(flags),
            )
        )
    # ignore_conflicts: an index another attempt already wrote stays as it is.
    Candidate.objects.bulk_create(rows, ignore_conflicts=True)


def recover_stale_jobs(enqueue) -> dict[str, list[int]]:
    """Resume running jobs whose lease ran out (their worker died).

    Jobs asked to cancel are cancelled; jobs that already killed their worker
    MAX_ATTEMPTS times are failed with a message; the rest are re-queued (the
    claim makes a duplicate harmless).
    """
    now = timezone.now()
    result: dict[str, list[int]] = {"requeued": [], "failed": [], "cancelled": []}
    stale = GenerationJob.objects.filter(
        status=JobStatus.RUNNING, lease_expires_at__lt=now
    ).values_list("pk", "attempts", "cancel_requested")
    for pk, attempts, cancel_requested in stale:
        still_stale = GenerationJob.objects.filter(
            pk=pk, status=JobStatus.RUNNING, lease_expires_at__lt=now
        )
        if cancel_requested:
            if still_stale.update(
                status=JobStatus.CANCELLED,
                finished_at=now,
                lease_expires_at=None,
                progress_message="cancelled",
            ):
                result["cancelled"].append(pk)
        elif attempts >= MAX_ATTEMPTS:
            message = (
                f"the worker running this job stopped {attempts} times (it may "
                "have run out of memory or passed the hard time limit); the "
                "finished candidates were kept. Ask for fewer candidates or fewer "
                "new tokens."
            )
            if still_stale.update(
                status=JobStatus.FAILED,
                finished_at=now,
                lease_expires_at=None,
                error_message=message,
            ):
                result["failed"].append(pk)
        else:
            enqueue(pk)
            result["requeued"].append(pk)
    return result
