"""Celery tasks of generation: thin wrappers around runner.py and services.py.

Tasks take ids, never objects; run_generation_job goes to the `generation`
queue, the others to `default` (see webapp/celery.py).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from webapp.task_retry import RETRY

logger = logging.getLogger(__name__)

# Jobs launched per fan-out task. Launching one job takes about 10 queries
# (measured: ~6 ms on SQLite, ~9 ms on local PostgreSQL), so a chunk of 25
# stays well under a second and a schedule over thousands of campaigns never
# holds one task (or its row lock on the bulk run) for long.
FAN_OUT_CHUNK = 25


def generation_task_options() -> dict:
    """Time limits read at send time, so tests and deployments can set them."""
    return {
        "soft_time_limit": settings.GENERATION_SOFT_TIME_LIMIT,
        "time_limit": settings.GENERATION_TIME_LIMIT,
    }


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, **RETRY)
def run_generation_job(self, job_id: int) -> str:
    """Claim the job and generate its missing candidates."""
    from webapp.generation.runner import run_job

    # timelimit is (hard, soft) as sent by generation_task_options().
    soft = (self.request.timelimit or (None, None))[1]
    return run_job(job_id, task_id=self.request.id, soft_time_limit=soft)


def _requeue(job_id: int) -> None:
    run_generation_job.apply_async(args=[job_id], **generation_task_options())


@shared_task(**RETRY)
def recover_stale_jobs() -> dict:
    """Resume jobs whose worker died; runs at worker start and every minute."""
    from webapp.generation import runner

    result = runner.recover_stale_jobs(_requeue)
    if any(result.values()):
        logger.info("stale generation jobs: %s", result)
    return result


@shared_task(**RETRY)
def run_schedule(schedule_id: int) -> int | None:
    """Fired by django-celery-beat: record a bulk run and start its fan-out."""
    from webapp.generation.models import GenerationSchedule
    from webapp.generation.services import do_start_schedule_run

    schedule = GenerationSchedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        logger.warning("schedule %s no longer exists", schedule_id)
        return None
    bulk = do_start_schedule_run(schedule)
    return bulk.pk if bulk else None


@shared_task(bind=True, acks_late=True, **RETRY)
def fan_out_bulk_run(self, bulk_run_id: int) -> None:
    """Launch one chunk of a bulk run's jobs, then re-queue for the next."""
    from webapp.generation.services import do_fan_out_chunk

    if do_fan_out_chunk(bulk_run_id, FAN_OUT_CHUNK):
        fan_out_bulk_run.delay(bulk_run_id)


@worker_ready.connect
def _recover_on_start(sender=None, **kwargs) -> None:
    """A worker that starts after a crash picks up the jobs the crash left."""
    try:
        recover_stale_jobs.delay()
    except Exception:  # noqa: BLE001 - never keep a worker from starting
        logger.exception("could not queue recover_stale_jobs")
