"""A real Celery worker process that consumes from the test broker and test DB.

Tests that use `celery_worker` (or `celery_worker_factory`) get a worker
subprocess (`celery -A webapp worker`, prefork with one child so soft and hard
time limits work) connected to the database pytest-django created and to the
broker the test process publishes to: `CELERY_BROKER_URL` when set (CI: Redis
db 15), else the per-run filesystem broker folder tests/settings.py picked.
The fixtures pull in `transactional_db`, because a worker only sees committed
rows. They work alongside `live_server` for browser tests.

    def test_job_runs(celery_worker, ...):
        ...launch...
        wait_until(lambda: job_done(), timeout=60, what="job to finish")
        celery_worker.kill()      # SIGKILL the worker and its pool children
        celery_worker.restart()   # a fresh process with the same settings
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CELERY = ROOT / ".venv" / "bin" / "celery"
QUEUES = ("default", "generation", "training")
_counter = itertools.count(1)


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.2, what=""):
    """Poll predicate() until it returns a truthy value, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def database_url_for_workers() -> str:
    """A DATABASE_URL for the database the tests run against (the test DB)."""
    db = connection.settings_dict
    name = db["NAME"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(name).resolve()}"
    if "postgresql" in db["ENGINE"]:
        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "127.0.0.1"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{auth}{host}{port}/{quote(name, safe='')}"
    raise RuntimeError(f"no worker support for database engine {db['ENGINE']}")


def purge_test_queues() -> None:
    """Drop messages left by earlier tests so a worker sees only this test's."""
    from webapp.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in QUEUES:
            try:
                channel.queue_purge(queue)
            except Exception:  # noqa: BLE001 - a queue that never existed
                pass
        client = getattr(channel, "client", None)
        if client is not None and hasattr(client, "delete"):
            # Redis keeps delivered-but-unacked messages here and would restore
            # a killed test's job into a later test's queue.
            client.delete("unacked", "unacked_index", "unacked_mutex")


class WorkerHandle:
    """One worker subprocess; .kill() and .restart() simulate node failures."""

    def __init__(self, env: dict[str, str], log_dir: Path, queues=QUEUES):
        self.env = env
        self.queues = tuple(queues)
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None
        self.hostname = ""
        self.log_path: Path | None = None
        self.starts = 0

    def start(self, timeout: float = 90.0) -> WorkerHandle:
        self.starts += 1
        n = next(_counter)
        self.hostname = f"test-{os.getpid()}-{n}@localhost"
        self.log_path = self.log_dir / f"worker-{n}.log"
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "webapp",
                "worker",
                "-Q",
                ",".join(self.queues),
                "--pool=prefork",
                "--concurrency=1",
                "-l",
                "info",
                "-n",
                self.hostname,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so kill() takes the pool children too, like
            # a machine that dies.
            start_new_session=True,
        )
        log.close()
        wait_until(self._ready, timeout=timeout, interval=0.1, what="worker ready")
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"worker exited with {self.proc.returncode}:\n{self.log()[-4000:]}"
            )
        return " ready." in self.log()

    def log(self) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its children: no cleanup, no acks."""
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 15.0) -> None:
        """Cold shutdown (SIGQUIT: the test is over), SIGKILL if it hangs."""
        if not self.alive:
            return
        os.kill(self.proc.pid, signal.SIGQUIT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        else:
            try:  # pool children that outlived the main process
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def restart(self, timeout: float = 90.0) -> WorkerHandle:
        self.kill()
        return self.start(timeout=timeout)


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a worker that shares this test run's DB and broker."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url_for_workers(),
        # Connections are closed after each task, so the test DB can be dropped
        # at the end of the run while nothing holds it open.
        DB_CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    broker = settings.CELERY_BROKER_URL
    env["CELERY_BROKER_URL"] = broker
    if broker.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        env["CELERY_BROKER_DIR"] = str(folder.parent)
    env.update({key: str(value) for key, value in extra.items()})
    return env


@pytest.fixture
def celery_worker_factory(transactional_db, tmp_path):
    """start(**env) starts a worker with extra environment variables."""
    handles: list[WorkerHandle] = []
    purge_test_queues()

    def start(queues=QUEUES, **extra: str) -> WorkerHandle:
        handle = WorkerHandle(worker_env(**extra), tmp_path, queues=queues)
        handles.append(handle)
        return handle.start()

    yield start
    for handle in handles:
        # SIGKILL: a graceful stop takes ~5 s with the filesystem transport and
        # nothing is left to finish once the test is over.
        handle.kill()
        # Captured by pytest and shown only when the test failed.
        print(f"--- worker {handle.hostname} log (tail)\n{handle.log()[-6000:]}")
    purge_test_queues()
    if os.environ.get("COPYDESK_KEEP_WORKER_LOGS"):
        target = ROOT / "test-artifacts" / "worker-logs"
        target.mkdir(parents=True, exist_ok=True)
        for path in tmp_path.glob("worker-*.log"):
            shutil.copy(path, target / f"{os.getpid()}-{path.name}")


@pytest.fixture
def celery_worker(celery_worker_factory):
    """A running worker on all queues with the default settings."""
    return celery_worker_factory()


# ---------------------------------------------------------------- a small model

TINY_CORPUS = [
    "Free shipping on {product} today. Fresh, bold and ready.",
    "Meet {product} by {brand}: {fact1} and more.",
    "Save big on {product}. Limited offer, act now!",
    "Your mornings, upgraded: {product} blends smoothies in seconds.",
    "免费送货，{product} 让生活更轻松。",
] * 20


def build_tiny_checkpoint(directory: Path, seed: int = 0) -> Path:
    """A randomly initialised, very small ReformerLM saved as a real checkpoint.

    Its text is noise, but it loads, validates and generates through the same
    code as a trained model in a few milliseconds per token, which keeps the
    worker tests fast; the shipped demo checkpoint covers trained output.
    """
    import torch

    from generator.checkpoint import save_checkpoint
    from generator.config import ModelConfig
    from generator.model import build_model
    from generator.tokenizer import CopyTokenizer

    tokenizer = CopyTokenizer.train(TINY_CORPUS, vocab_size=400)
    config = ModelConfig(
        preset="tiny",
        vocab_size=tokenizer.vocab_size,
        dim=32,
        depth=1,
        heads=2,
        dim_head=16,
        max_seq_len=128,
        bucket_size=16,
        n_hashes=1,
    )
    torch.manual_seed(seed)
    save_checkpoint(
        directory,
        build_model(config),
        config,
        tokenizer,
        metadata={"name": f"tiny-test-{seed}", "metrics": {"val_loss": 5.9}},
    )
    return directory


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """Path of a tiny real checkpoint (see build_tiny_checkpoint)."""
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-checkpoint"))


@pytest.fixture
def tiny_model(db, tiny_checkpoint, settings, tmp_path):
    """The tiny checkpoint registered as the global default model version."""
    from webapp.models_registry.services import do_register_model_version

    settings.MODEL_DIR = tmp_path / "models"
    version, _ = do_register_model_version(tiny_checkpoint, global_default=True)
    return version
