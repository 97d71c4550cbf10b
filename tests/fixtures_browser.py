"""Browser-UI fixtures: review data for client tests, and a real headless Chromium.

``make_review_job(campaign, n)`` stores a finished job with ``n`` candidates straight
in the database (for fast Django-client tests of the review pages; the browser
tests generate theirs with the real worker and model instead).

``browser`` is Playwright driving Debian's Chromium (/usr/bin/chromium; never
``playwright install``); ``page`` is a fresh context at laptop size whose
``page.shot(name)`` saves test-artifacts/screenshots/<name>.png. Browser tests
are skipped, with the reason, when Chromium is not installed; ``.ci/run``
installs it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


# ---------------------------------------------------------------- review data


@pytest.fixture
def ui_model_version(db):
    """A model version row (no checkpoint behind it: nothing generates here)."""
    from webapp.models_registry.models import ModelVersion

    return ModelVersion.objects.create(
        name="fixture-model",
        checkpoint_dir="/nonexistent/fixture-model",
        checkpoint_sha256="f" * 64,
        preset="tiny",
        metrics={"val_loss": 2.5, "perplexity": 12.18},
    )


@pytest.fixture
def ui_campaign(org, admin_user):
    from webapp.campaigns.services import do_create_campaign

    return do_create_campaign(
        org,
        admin_user,
        name="Spring launch",
        product_name="Aurora X2",
        product_description="A quiet, light electric bike.",
        key_facts=["40 km range"],
        keywords=["commute"],
        content_types=["ad_headline", "slogan"],
        channels=["social"],
        status="active",
    )


@pytest.fixture
def make_review_job(ui_model_version):
    """make_review_job(campaign, n, texts=None, **job_fields) -> finished job."""
    from webapp.generation.models import Candidate, GenerationJob, JobStatus

    def make(campaign, n=3, texts=None, flags=None, **fields):
        job = GenerationJob.objects.create(
            organization=campaign.organization,
            campaign=campaign,
            content_type=fields.pop("content_type", "ad_headline"),
            num_candidates=n,
            total_candidates=n,
            params={"temperature": 0.9, "top_p": 0.92, "top_k": 50, "seed": 7},
            variants=[{"persona_id": None, "spec": {"content_type": "ad_headline"}}],
            model_version=ui_model_version,
            **{"status": JobStatus.SUCCEEDED, "progress": 1.0, **fields},
        )
        texts = texts or [f"Ride the Aurora X2, headline {i}" for i in range(n)]
        Candidate.objects.bulk_create(
            Candidate(
                job=job,
                organization=campaign.organization,
                campaign=campaign,
                index=i,
                content_type=job.content_type,
                text=texts[i % len(texts)],
                score=-1.0 - i / 10,
                token_count=8,
                model_version=ui_model_version,
                seed=100 + i,
                params={"temperature": 0.9, "top_p": 0.92, "top_k": 50},
                safety_flags=(flags or {}).get(i, []),
                flagged=bool((flags or {}).get(i)),
            )
            for i in range(n)
        )
        return job

    return make


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}; apt-get install chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop on this thread, which makes
    # Django refuse ORM calls from the test ("async context"); the calls are in
    # fact synchronous, so the check is lifted while the browser is open.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            headless=True,
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def screenshot_dir():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class Page:
    """A Playwright page with the live server's URL and a screenshot helper."""

    def __init__(self, page, base_url: str, shots: Path):
        self._page = page
        self.base_url = base_url.rstrip("/")
        self.shots = shots
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.console_errors.append(str(e)))

    def _on_dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        # Confirmations of deletes are accepted; alerts (XSS) are recorded.
        dialog.accept() if dialog.type == "confirm" else dialog.dismiss()

    def __getattr__(self, name):
        return getattr(self._page, name)

    def open(self, path: str):
        return self._page.goto(self.base_url + path)

    def shot(self, name: str, full_page: bool = True) -> Path:
        path = self.shots / f"{name}.png"
        self._page.screenshot(path=str(path), full_page=full_page)
        return path

    def login(self, username: str, password: str):
        self.open("/login/")
        self._page.get_by_label("Username").fill(username)
        self._page.get_by_label("Password").fill(password)
        self._page.get_by_role("button", name="Sign in").click()
        self._page.wait_for_url(self.base_url + "/")


@pytest.fixture
def new_page(browser, live_server, screenshot_dir):
    """new_page(viewport=LAPTOP) -> a Page in a fresh context (own cookies)."""
    contexts = []

    def make(viewport=LAPTOP):
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Page(context.new_page(), live_server.url, screenshot_dir)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
