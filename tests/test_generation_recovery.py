"""A worker that starts after a crash finishes what the crashed one left."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.fixtures_worker import wait_until
from webapp.generation.models import GenerationJob, JobStatus
from webapp.models_registry.models import ModelVersion

pytestmark = pytest.mark.integration


def _orphaned_job(campaign, **fields) -> GenerationJob:
    version = ModelVersion.objects.create(
        name="orphan-model", checkpoint_dir="/nonexistent", checkpoint_sha256="0" * 64
    )
    return GenerationJob.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        content_type="slogan",
        num_candidates=2,
        total_candidates=2,
        params={},
        variants=[],
        model_version=version,
        status=JobStatus.RUNNING,
        lease_owner="dead-host:1:x",
        lease_expires_at=timezone.now() - timedelta(seconds=5),
        **fields,
    )


def test_starting_worker_cancels_orphaned_job_that_asked_to_cancel(
    campaign, celery_worker_factory
):
    job = _orphaned_job(campaign, cancel_requested=True, attempts=1)
    celery_worker_factory()

    wait_until(
        lambda: GenerationJob.objects.get(pk=job.pk).status == JobStatus.CANCELLED,
        timeout=30,
        what="the new worker to cancel the orphaned job",
    )


def test_job_that_killed_its_worker_three_times_fails_with_a_message(
    campaign, celery_worker_factory
):
    job = _orphaned_job(campaign, attempts=3)
    celery_worker_factory()

    job = wait_until(
        lambda: GenerationJob.objects.filter(pk=job.pk, status="failed").first(),
        timeout=30,
        what="the orphaned job to fail",
    )
    assert "stopped 3 times" in job.error_message
