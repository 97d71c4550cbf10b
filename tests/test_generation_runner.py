"""The runner in-process: claim, resume, batches, flags (the worker tests run
the same code in a real Celery worker)."""

import pytest

from webapp.generation import runner
from webapp.generation.models import Candidate, GenerationJob, JobStatus
from webapp.generation.services import do_launch_job


@pytest.fixture
def job(campaign, marketer, tiny_model):
    return do_launch_job(
        campaign=campaign,
        content_type="slogan",
        user=marketer,
        num_candidates=5,
        params={"max_new_tokens": 6, "seed": 7},
    )


def test_second_claim_of_a_running_job_gets_nothing(job):
    assert runner.claim_job(job.pk, "worker-a") is not None
    assert runner.claim_job(job.pk, "worker-b") is None
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert job.lease_owner == "worker-a"
    assert job.attempts == 1


def test_run_job_writes_every_candidate_once_with_progress_one(job, settings):
    settings.GENERATION_BATCH_SIZE = 2
    assert runner.run_job(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.progress == 1.0
    assert job.generate_seconds > 0
    assert sorted(job.candidates.values_list("index", flat=True)) == [0, 1, 2, 3, 4]
    assert runner.run_job(job.pk).startswith("not claimed")
    assert job.candidates.count() == 5


def test_resumed_job_fills_only_missing_indices(job, settings):
    settings.GENERATION_BATCH_SIZE = 2
    assert runner.run_job(job.pk) == "succeeded"
    first = {c.index: c.text for c in job.candidates.all()}
    # What a crash after two candidates leaves behind: a running job with an
    # expired lease and some of its candidates.
    job.candidates.filter(index__gte=2).delete()
    kept = {c.pk for c in job.candidates.all()}
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        lease_owner="dead",
        lease_expires_at="2000-01-01T00:00Z",
    )
    assert runner.run_job(job.pk) == "succeeded"
    assert kept <= set(job.candidates.values_list("pk", flat=True))
    again = {c.index: c.text for c in job.candidates.all()}
    assert again == first  # seeds follow the index, so the refill is the same


def test_planted_personal_data_is_flagged_and_kept(job):
    from generator.api import Candidate as Generated

    texts = ["Mail us: sales@acme-shop.com", "Call 13812345678 now", "Plain copy!"]
    generated = [
        Generated(text=t, token_count=3, mean_logprob=-1.0, params={}, seed=1, index=i)
        for i, t in enumerate(texts)
    ]
    variant = job.variants[0]
    runner._save_batch(job, variant, [0, 1, 2], generated, runner.SafetyRules())
    stored = {c.index: c for c in Candidate.objects.filter(job=job)}
    assert [f["code"] for f in stored[0].safety_flags] == ["email"]
    assert [f["code"] for f in stored[1].safety_flags] == ["phone"]
    assert stored[0].flagged and stored[1].flagged
    assert not stored[2].flagged
