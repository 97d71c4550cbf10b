"""Automatic retraining: N new rated or edited candidates since the last run."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from tests.fixtures_training import make_candidates
from webapp.review.services import do_rate, do_revise
from webapp.training.models import TrainingJob, TrainingStatus, TrainingTrigger
from webapp.training.services import (
    do_check_retraining,
    do_set_retraining_policy,
    fail_stale_training_jobs,
    new_feedback_count,
)


@pytest.fixture
def policy(org, admin_user, base_version):
    return do_set_retraining_policy(
        org, admin_user, enabled=True, min_new_feedback=3, options={"max_steps": 5}
    )


def test_the_periodic_check_is_installed_in_celery_beat(db):
    task = PeriodicTask.objects.get(name="copydesk: check retraining policies")
    assert task.task == "webapp.training.tasks.check_retraining"
    assert task.enabled and task.interval.every == 600


def test_a_job_starts_once_n_new_candidates_are_rated_or_edited(
    org, campaign, base_version, editor, policy
):
    a, b, c = make_candidates(campaign, base_version, ["One.", "Two.", "Three."])
    do_rate(a, editor, 5)
    do_revise(b, editor, "Two, edited.")
    assert new_feedback_count(org) == 2
    assert do_check_retraining()["launched"] == []
    do_rate(c, editor, 4)
    result = do_check_retraining()
    assert len(result["launched"]) == 1
    job = TrainingJob.objects.get(pk=result["launched"][0])
    assert job.trigger == TrainingTrigger.AUTOMATIC and job.created_by is None
    assert job.options["max_steps"] == 5
    # While it is queued nothing else starts; afterwards the count restarts.
    assert do_check_retraining()["skipped"] == [org.pk]
    TrainingJob.objects.filter(pk=job.pk).update(status=TrainingStatus.SUCCEEDED)
    assert new_feedback_count(org) == 0
    assert do_check_retraining()["launched"] == []


def test_disabled_policies_are_not_checked(org, campaign, base_version, editor, policy):
    policy.enabled = False
    policy.save()
    for candidate in make_candidates(campaign, base_version, ["A.", "B.", "C."]):
        do_rate(candidate, editor, 5)
    assert do_check_retraining() == {"launched": [], "skipped": []}


def test_policy_values_are_validated(org, admin_user, editor):
    with pytest.raises(ValidationError) as caught:
        do_set_retraining_policy(org, admin_user, enabled=True, min_new_feedback=0)
    assert "min_new_feedback must be a whole number" in str(caught.value)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        do_set_retraining_policy(org, editor, enabled=True, min_new_feedback=5)


def test_running_jobs_without_heartbeat_are_failed(org, base_version):
    job = TrainingJob.objects.create(
        organization=org,
        base_version=base_version,
        status=TrainingStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(hours=2),
    )
    fresh = TrainingJob.objects.create(
        organization=org,
        base_version=base_version,
        status=TrainingStatus.RUNNING,
        heartbeat_at=timezone.now(),
    )
    assert fail_stale_training_jobs() == [job.pk]
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.status == TrainingStatus.FAILED
    assert "active model is unchanged" in job.error_message
    assert fresh.status == TrainingStatus.RUNNING
