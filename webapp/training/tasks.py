"""Celery tasks of training: thin wrappers around runner.py and services.py.

run_training_job goes to the `training` queue (GPU nodes in production); the
periodic retraining check goes to `default` (see webapp/celery.py).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from webapp.task_retry import RETRY

logger = logging.getLogger(__name__)


def training_task_options() -> dict:
    """Time limits read at send time, so tests and deployments can set them."""
    return {
        "soft_time_limit": settings.TRAINING_SOFT_TIME_LIMIT,
        "time_limit": settings.TRAINING_TIME_LIMIT,
    }


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, **RETRY)
def run_training_job(self, job_id: int) -> str:
    """Claim the training job and run it; never activates the result."""
    from webapp.training.runner import run_training

    return run_training(job_id, task_id=self.request.id)


@shared_task(**RETRY)
def check_retraining() -> dict:
    """Fired by django-celery-beat: fail lost runs, launch due retraining."""
    from webapp.training.services import do_check_retraining, fail_stale_training_jobs

    failed = fail_stale_training_jobs()
    result = do_check_retraining()
    result["failed_stale"] = failed
    if any(result.values()):
        logger.info("retraining check: %s", result)
    return result
