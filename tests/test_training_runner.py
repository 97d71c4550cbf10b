"""The training runner in-process: success registers a child, failure does not."""

import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.fixtures_training import make_candidates
from webapp.models_registry.models import ModelVersion
from webapp.models_registry.services import active_version_for
from webapp.review.services import do_decide, do_rate, do_revise
from webapp.training.models import ModelEvent, TrainingJob, TrainingStatus
from webapp.training.runner import run_training
from webapp.training.services import do_cancel_training, do_launch_training

FAST = {"max_steps": 6, "batch_size": 4, "replay_ratio": 0.5}


@pytest.fixture
def reviewed(campaign, base_version, editor):
    texts = [
        f"Acme Blender makes smoothie number {i}. Free shipping!" for i in range(8)
    ]
    candidates = make_candidates(campaign, base_version, texts)
    for i, candidate in enumerate(candidates):
        do_rate(candidate, editor, 5 if i % 2 == 0 else 2)
    do_revise(candidates[1], editor, "Acme Blender: smoothies with free shipping?")
    do_decide(candidates[1], editor, "approve")
    do_rate(candidates[1], editor, 5)  # the edit made it good
    return candidates


def test_a_run_registers_a_child_version_with_metrics_curve_and_data_hash(
    org, admin_user, base_version, reviewed
):
    job = do_launch_training(organization=org, user=admin_user, options=FAST)
    assert job.status == TrainingStatus.QUEUED
    assert run_training(job.pk) == "succeeded"
    job.refresh_from_db()
    child = job.resulting_version
    assert job.status == TrainingStatus.SUCCEEDED and job.progress == 1.0
    assert child.parent_id == base_version.pk
    assert child.organization_id == org.pk
    # Five SFT examples (4 rated 5, 1 edited and approved); one held out.
    assert job.data_card["sft"]["count"] == 5
    assert job.data_card["train_examples"] == 4
    assert job.data_card["feedback_heldout_examples"] == 1
    assert job.data_card["replay"]["rows"] == 2
    for key in (
        "base_heldout_loss",
        "parent_base_heldout_loss",
        "feedback_heldout_loss",
    ):
        assert isinstance(child.metrics[key], float), key
    assert child.metadata["feedback_data_hash"] == job.data_card["sft"]["sha256"]
    assert child.metadata["parent"] == base_version.name
    assert any("loss" in point for point in job.loss_curve)
    assert child.metadata["loss_curve"] == job.loss_curve
    assert "registered" in job.logs and "fine-tuning" in job.logs
    # The checkpoint lives under MODEL_DIR and is complete; no work folder left.
    folder = Path(child.checkpoint_dir)
    assert json.loads((folder / "metadata.json").read_text())["training_job"] == job.pk
    assert not (folder / "resume").exists()
    assert not list((folder.parent / "training").glob("job-*"))
    # Nobody activated it: the organization still generates with the parent.
    assert active_version_for(org) == base_version
    assert ModelEvent.objects.filter(version=child, kind="trained").exists()


def test_a_failed_run_registers_nothing_and_keeps_the_active_model(
    org, admin_user, base_version, reviewed
):
    job = do_launch_training(organization=org, user=admin_user, options=FAST)
    weights = Path(base_version.checkpoint_dir) / "model.safetensors"
    original = weights.read_bytes()
    try:
        weights.write_bytes(original[:100])  # a corrupt parent checkpoint
        assert run_training(job.pk) == "failed"
    finally:
        weights.write_bytes(original)
    job.refresh_from_db()
    assert job.status == TrainingStatus.FAILED
    assert "model.safetensors" in job.error_message
    assert "active model is unchanged" in job.error_message
    assert job.resulting_version is None
    assert ModelVersion.objects.count() == 1
    assert active_version_for(org) == base_version


def test_cancelling_a_running_job_stops_it_without_registering(
    org, admin_user, base_version, reviewed, monkeypatch
):
    from webapp.training import runner

    job = do_launch_training(
        organization=org, user=admin_user, options={**FAST, "max_steps": 500}
    )
    real_flush = runner.Reporter.flush

    def flush(self, force=False):
        # The admin presses cancel once training is under way.
        if self.curve and not self.cancelled:
            do_cancel_training(TrainingJob.objects.get(pk=job.pk), admin_user)
        return real_flush(self, force=True)

    monkeypatch.setattr(runner.Reporter, "flush", flush)
    assert run_training(job.pk) == "cancelled"
    job.refresh_from_db()
    assert job.status == TrainingStatus.CANCELLED
    assert job.resulting_version is None
    assert ModelVersion.objects.count() == 1
    steps = [p["step"] for p in job.loss_curve if "loss" in p]
    assert steps and max(steps) < 500


def test_a_job_is_claimed_once(org, admin_user, base_version, reviewed):
    job = do_launch_training(organization=org, user=admin_user, options=FAST)
    TrainingJob.objects.filter(pk=job.pk).update(status=TrainingStatus.CANCELLED)
    assert run_training(job.pk) == "not claimed (cancelled)"


def test_the_preference_stage_runs_dpo_after_sft(
    org, admin_user, base_version, reviewed
):
    options = {**FAST, "preference": True, "preference_steps": 3}
    job = do_launch_training(organization=org, user=admin_user, options=options)
    assert run_training(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.data_card["preference"]["count"] > 0
    metrics = job.resulting_version.metrics
    assert metrics["preference_steps"] == 3
    assert "preference_dpo_loss" in metrics
    assert any("dpo_loss" in point for point in job.loss_curve)


def test_launch_needs_feedback_an_admin_and_one_job_at_a_time(
    org, admin_user, editor, base_version, campaign
):
    with pytest.raises(ValidationError) as caught:
        do_launch_training(organization=org, user=admin_user, options=FAST)
    assert "no feedback to learn from" in str(caught.value)
    (candidate,) = make_candidates(campaign, base_version, ["Good copy."])
    do_decide(candidate, editor, "approve")
    with pytest.raises(PermissionDenied):
        do_launch_training(organization=org, user=editor, options=FAST)
    do_launch_training(organization=org, user=admin_user, options=FAST)
    with pytest.raises(ValidationError) as caught:
        do_launch_training(organization=org, user=admin_user, options=FAST)
    assert "is still queued" in str(caught.value)


def test_bad_training_options_name_each_field(org, admin_user, base_version):
    with pytest.raises(ValidationError) as caught:
        do_launch_training(
            organization=org,
            user=admin_user,
            options={
                "max_steps": 0,
                "learning_rate": "fast",
                "preference": "maybe",
                "dataset": {"min_rating": 0},
                "epochs": 3,
            },
        )
    errors = caught.value.message_dict
    assert errors["max_steps"] == ["max_steps must be in [1, 20000], got 0"]
    assert errors["learning_rate"] == ["learning_rate must be a number, got 'fast'"]
    assert errors["preference"] == ["preference must be true or false, got 'maybe'"]
    assert "min_rating" in errors["dataset.min_rating"][0]
    assert "unknown training options: epochs" in errors["options"][0]
