"""run_training_job through a real Celery worker process and the real broker."""

import pytest

from tests.fixtures_training import make_candidates
from tests.fixtures_worker import wait_until
from webapp.models_registry.services import active_version_for
from webapp.review.services import do_rate
from webapp.training.models import TrainingJob, TrainingStatus

pytestmark = pytest.mark.integration


def test_a_worker_runs_a_launched_training_job_to_a_new_version(
    celery_worker_factory,
    api_client_for,
    admin_user,
    org,
    campaign,
    editor,
    base_version,
    model_dir,
):
    texts = [f"Acme Blender smoothie idea {i}?" for i in range(6)]
    for candidate in make_candidates(campaign, base_version, texts):
        do_rate(candidate, editor, 5)
    celery_worker_factory(queues=("training",), MODEL_DIR=str(model_dir))
    response = api_client_for(admin_user).post(
        "/api/v1/training-jobs/",
        {"organization": org.pk, "options": {"max_steps": 30, "batch_size": 4}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    job_id = response.json()["id"]
    seen = []

    def finished():
        job = TrainingJob.objects.get(pk=job_id)
        seen.append((job.status, job.progress))
        return job if job.is_finished else None

    job = wait_until(finished, timeout=240, interval=0.3, what="training job")
    assert job.status == TrainingStatus.SUCCEEDED, job.error_message
    # Progress was visible while it ran, and it only went forward.
    running = [p for status, p in seen if status == TrainingStatus.RUNNING]
    assert any(0 < p < 1 for p in running), seen
    assert running == sorted(running)
    version = job.resulting_version
    assert version.parent == base_version and version.organization == org
    assert version.checkpoint_dir.startswith(str(model_dir))
    assert job.loss_curve and "fine-tuning done" in job.logs
    assert active_version_for(org) == base_version
    # The API shows the finished job with its result.
    body = api_client_for(admin_user).get(f"/api/v1/training-jobs/{job_id}/").json()
    assert body["status"] == "succeeded"
    assert body["resulting_version"]["id"] == version.pk
