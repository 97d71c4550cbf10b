"""Throughput and overhead of generation jobs through a broker and one worker.

    .venv/bin/python benchmarks/jobs.py [--jobs 100] [--model DIR]

It creates its own database (a SQLite file in a temporary folder, or the
PostgreSQL database named by BENCH_DATABASE_URL, dropped and created anew),
starts one Celery worker process
(prefork, one child, like a GPU node) and measures:

1. throughput: --jobs small jobs (2 candidates, 8 new tokens) launched at once,
   from the first launch to the last finish, as jobs per minute;
2. overhead: --overhead-jobs jobs of 8 candidates run one after another; for
   each, the time from queued to finished (timestamps written by the web
   process and the worker) minus the time spent inside Copywriter.generate()
   (recorded by the worker per job), as a share of the job's time. Target:
   under 5%.

The broker is CELERY_BROKER_URL, else Redis at redis://127.0.0.1:6379/12; when
no Redis answers there the filesystem transport is used and the numbers say so
(it polls once a second, so its latency is not representative).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _redis_answers(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means no Redis
        return False


def fresh_postgres_database(url: str) -> None:
    """Drop and create the database the URL names (it is the benchmark's own)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def configure(workdir: Path) -> dict[str, str]:
    """Environment shared by this process and the worker."""
    env = {
        # As in production: DEBUG=1 would record every SQL query.
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-secret-key-0123456789abcdefghijklmnop",
        "VAR_DIR": str(workdir),
        "DATABASE_URL": os.environ.get(
            "BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}"
        ),
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "LOG_LEVEL": "WARNING",
    }
    if env["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        fresh_postgres_database(env["DATABASE_URL"])
    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/12")
    if broker.startswith("redis") and not _redis_answers(broker):
        print(f"# no Redis at {broker}; using the filesystem broker", flush=True)
        broker = "filesystem://"
    env["CELERY_BROKER_URL"] = broker
    os.environ.update(env)
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("wb")
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "webapp",
            "worker",
            "-Q",
            "generation,default",
            "--pool=prefork",
            "--concurrency=1",
            "-l",
            "info",
            "-n",
            f"bench-{os.getpid()}@localhost",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while " ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    return proc


def wait_for(job_ids: list[int], timeout: float) -> None:
    from webapp.generation.models import FINISHED_STATUSES, GenerationJob

    deadline = time.monotonic() + timeout
    while True:
        left = (
            GenerationJob.objects.filter(pk__in=job_ids)
            .exclude(status__in=FINISHED_STATUSES)
            .count()
        )
        if not left:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{left} jobs did not finish in {timeout}s")
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--overhead-jobs", type=int, default=10)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--overhead-tokens", type=int, default=32)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="copydesk-bench-"))
    env = configure(workdir)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.contrib.auth import get_user_model
    from django.db import connection

    from webapp.accounts.services import do_create_organization
    from webapp.campaigns.services import do_create_campaign
    from webapp.generation.models import GenerationJob, JobStatus
    from webapp.generation.services import do_launch_job
    from webapp.models_registry.services import do_register_model_version

    model = args.model
    if model is None:
        demo = ROOT / "generator" / "demo_model"
        if (demo / "model.safetensors").is_file():
            model = demo
        else:
            from tests.fixtures_worker import build_tiny_checkpoint

            model = build_tiny_checkpoint(workdir / "tiny-checkpoint")
            print("# generator/demo_model not built; using a tiny random model")
    version, _ = do_register_model_version(model, name="bench", global_default=True)
    user = get_user_model().objects.create_user("bench", password="x")
    org = do_create_organization("Bench", owner=user)
    campaign = do_create_campaign(
        org,
        user,
        name="Bench",
        product_name="Aurora X2",
        key_facts=["40 km range"],
        keywords=["commute"],
        content_types=["ad_headline"],
        status="active",
    )
    worker = start_worker(env, workdir / "worker.log")
    try:
        print(
            f"broker={env['CELERY_BROKER_URL'].split('://')[0]} "
            f"db={connection.vendor} model={version.preset or '?'} "
            f"({Path(model).name}) batch={os.environ.get('GENERATION_BATCH_SIZE', 4)}"
        )
        # Warm-up: the worker loads the model once and keeps it.
        warm = do_launch_job(
            campaign=campaign, content_type="ad_headline", user=user, num_candidates=1
        )
        wait_for([warm.pk], 300)
        load = GenerationJob.objects.get(pk=warm.pk).load_seconds
        print(f"model load (once per worker process): {load:.2f} s")

        small = {"max_new_tokens": 8}
        started = time.perf_counter()
        ids = [
            do_launch_job(
                campaign=campaign,
                content_type="ad_headline",
                user=user,
                num_candidates=2,
                params=small,
            ).pk
            for _ in range(args.jobs)
        ]
        wait_for(ids, 60 * 30)
        elapsed = time.perf_counter() - started
        jobs = GenerationJob.objects.filter(pk__in=ids)
        ok = jobs.filter(status=JobStatus.SUCCEEDED).count()
        gen = sum(j.generate_seconds for j in jobs)
        print(
            f"throughput: {args.jobs} jobs (2 candidates x 8 tokens) in "
            f"{elapsed:.1f} s = {args.jobs / elapsed * 60:.1f} jobs/min "
            f"({ok} succeeded; {gen / elapsed:.0%} of the wall time inside generate)"
        )

        shares, worker_shares, walls = [], [], []
        params = {
            "max_new_tokens": args.overhead_tokens,
            "min_new_tokens": args.overhead_tokens // 2,
        }
        for _ in range(args.overhead_jobs):
            job = do_launch_job(
                campaign=campaign,
                content_type="ad_headline",
                user=user,
                num_candidates=8,
                params=params,
            )
            wait_for([job.pk], 600)
            job.refresh_from_db()
            wall = (job.finished_at - job.queued_at).total_seconds()
            in_worker = (job.finished_at - job.started_at).total_seconds()
            walls.append(wall)
            shares.append((wall - job.generate_seconds) / wall)
            worker_shares.append((in_worker - job.generate_seconds) / in_worker)
        print(
            f"overhead of an 8-candidate job ({args.overhead_tokens} new tokens, "
            f"{args.overhead_jobs} jobs, median job {statistics.median(walls):.2f} s): "
            f"queued->finished minus generate() = "
            f"{statistics.median(shares):.1%} median, {max(shares):.1%} max; "
            f"inside the worker only {statistics.median(worker_shares):.1%} median "
            f"(target < 5%)"
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
