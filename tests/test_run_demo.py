"""run_demo serves HTTP with a real Celery worker and stops both on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.integration
def test_run_demo_starts_web_and_worker_and_stops_both(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    # Its own SQLite file and filesystem broker: nothing shared with other tests.
    env.update(
        DEBUG="1",
        VAR_DIR=str(tmp_path / "var"),
        CELERY_BROKER_DIR=str(tmp_path / "broker"),
        PYTHONUNBUFFERED="1",
    )
    manage = [sys.executable, "manage.py"]
    log = (tmp_path / "run_demo.log").open("w+")
    demo = subprocess.Popen(
        [*manage, "run_demo", "--port", str(port), "--no-register"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        output = ""
        while time.monotonic() < deadline:
            output = (tmp_path / "run_demo.log").read_text()
            if "Copydesk is running" in output and " ready." in output:
                break
            assert demo.poll() is None, output
            time.sleep(0.5)
        else:
            pytest.fail("run_demo did not become ready:\n" + output)
        assert f"http://127.0.0.1:{port}/" in output
        assert "copydesk-demo" in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema/") as reply:
            assert reply.status == 200
        pids = output.split("web server pid ")[1].split("\n")[0]
        web_pid = int(pids.split(",")[0])
        worker_pid = int(pids.split("worker pid ")[1])
        assert alive(web_pid) and alive(worker_pid)

        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=60) == 0
        assert not alive(web_pid)
        assert not alive(worker_pid)
        assert "Warm shutdown" in (tmp_path / "run_demo.log").read_text()
    finally:
        if demo.poll() is None:
            demo.kill()
        log.close()
