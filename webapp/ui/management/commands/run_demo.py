"""Serve the demo: Django's development server plus a real Celery worker.

Both run as child processes with this process's environment (SQLite and the
filesystem broker unless DATABASE_URL / CELERY_BROKER_URL say otherwise).
Ctrl-C or SIGTERM stops both: the worker gets a warm shutdown, so a running job
finishes its current batch or is redelivered later.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from webapp.accounts.management.commands.seed_demo import DEMO_PASSWORD, USERS

QUEUES = "default,generation,training"
STOP_TIMEOUT = 20  # seconds a child gets to exit before it is killed


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child if run_demo itself is killed."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PDEATHSIG
    except (OSError, AttributeError):
        pass


class Command(BaseCommand):
    help = "Run the web server and a Celery worker for the demo; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-register",
            action="store_true",
            help="do not register the shipped demo model",
        )

    def handle(self, *args, **options):
        if not 1 <= options["port"] <= 65535:
            raise CommandError(f"--port must be in 1..65535, got {options['port']}")
        self.base_dir = Path(settings.BASE_DIR)
        self.env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings.SETTINGS_MODULE)
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        # The web server and the worker share this machine's cores.
        self.env.setdefault("TORCH_THREADS", "1")
        if not options["no_register"]:
            self._register_demo_model()

        self.stopping = False
        previous = {
            sig: signal.signal(sig, self._request_stop)
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        address = f"{options['addr']}:{options['port']}"
        children: dict[str, subprocess.Popen] = {}
        exit_code = 0
        try:
            children["worker"] = self._spawn(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "webapp",
                    "worker",
                    "-Q",
                    QUEUES,
                    "--pool=solo",
                    "--hostname=demo@%h",
                    "-l",
                    "info",
                ]
            )
            children["web"] = self._spawn(
                [
                    sys.executable,
                    str(self.base_dir / "manage.py"),
                    "runserver",
                    address,
                    "--noreload",
                ]
            )
            self.stdout.write(
                f"run_demo: web server pid {children['web'].pid}, "
                f"Celery worker pid {children['worker'].pid}"
            )
            url = f"http://{address}/"
            if self._wait_until_serving(url, children):
                self._print_banner(url)
            while not self.stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(
                            f"run_demo: the {name} process exited with code "
                            f"{child.returncode}; stopping"
                        )
                        exit_code = 1
                        self.stopping = True
                        break
                time.sleep(0.3)
        finally:
            self._stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if exit_code:
            raise CommandError("a demo process stopped unexpectedly", returncode=1)
        self.stdout.write("Copydesk demo stopped.")

    def _request_stop(self, signum, frame) -> None:
        self.stopping = True

    def _spawn(self, command: list[str]) -> subprocess.Popen:
        # A session of its own, so Ctrl-C reaches only this process, which
        # then stops the children in order.
        return subprocess.Popen(
            command,
            cwd=self.base_dir,
            env=self.env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    def _wait_until_serving(self, url: str, children, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            if any(child.poll() is not None for child in children.values()):
                return False
            try:
                with urllib.request.urlopen(url + "api/schema/", timeout=2):
                    return True
            except urllib.error.HTTPError:
                return True  # it answers, even if not 200
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        return False

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"run_demo: {name} did not stop in time; killing it")
                child.kill()
                child.wait()

    def _register_demo_model(self) -> None:
        """Register generator/demo_model when the registry's command exists."""
        demo_model = self.base_dir / "generator" / "demo_model"
        manage = [sys.executable, str(self.base_dir / "manage.py")]
        help_run = subprocess.run(
            [*manage, "help", "register_model"],
            cwd=self.base_dir,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if help_run.returncode != 0 or not demo_model.is_dir():
            return
        command = [*manage, "register_model", str(demo_model)]
        if "--name" in help_run.stdout:
            command += ["--name", "demo"]
        if "--global-default" in help_run.stdout:
            command.append("--global-default")
        result = subprocess.run(
            command, cwd=self.base_dir, env=self.env, capture_output=True, text=True
        )
        if result.returncode == 0:
            self.stdout.write(result.stdout.strip())
        else:
            lines = (result.stderr or result.stdout).strip().splitlines()
            reason = lines[-1] if lines else f"exit code {result.returncode}"
            self.stderr.write(f"run_demo: could not register the demo model: {reason}")

    def _print_banner(self, url: str) -> None:
        write = self.stdout.write
        write("")
        write(self.style.SUCCESS(f"Copydesk is running at {url}"))
        write(f"  API docs: {url}api/docs/   Django admin: {url}admin/")
        write(f"  Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, (display, _lang, staff, roles) in USERS.items():
            admin_note = " + Django admin" if staff else ""
            where = ", ".join(f"{role} in {slug}" for slug, role in roles.items())
            write(f"    {username:<15} {display}: {where}{admin_note}")
        write("  Press Ctrl-C to stop the server and the worker.")
        write("")
