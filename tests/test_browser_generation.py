"""End to end in headless Chromium with a real Celery worker and a real model:
sign in, create a campaign, launch generation, watch the progress bar finish,
rate, edit and approve a candidate, export CSV.
"""

import csv
import io
import re
import time

import pytest

from tests.fixtures_accounts import PASSWORD
from webapp.generation.models import Candidate, GenerationJob
from webapp.review.models import Rating, ReviewDecision, Revision

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def model_checkpoint(request):
    """The shipped demo checkpoint when its fixture exists, else the tiny one.

    The demo model writes readable copy; the tiny random one exercises the
    same code paths when the demo checkpoint has not been built.
    """
    try:
        return request.getfixturevalue("demo_checkpoint")
    except pytest.FixtureLookupError:
        return request.getfixturevalue("tiny_checkpoint")


def test_campaign_to_approved_export_through_the_browser(
    request, page, admin_user, org, celery_worker, settings, tmp_path
):
    from webapp.models_registry.services import (
        do_activate_version,
        do_register_model_version,
    )

    settings.MODEL_DIR = tmp_path / "models"
    version, _ = do_register_model_version(model_checkpoint(request))
    do_activate_version(version, org, admin_user)

    page.login(admin_user.username, PASSWORD)

    # Create a campaign.
    page.open("/campaigns/new/")
    page.get_by_label(re.compile(r"^Name\b")).fill("Autumn ride")
    page.get_by_label("Product name").fill("Aurora X2")
    page.get_by_label("Product key facts").fill("40 km range\nFolds in 10 seconds")
    page.get_by_label("Keywords").fill("commute\nquiet")
    page.get_by_label("Status").select_option("active")
    page.get_by_label("Ad headline").check()
    page.get_by_label("Social media").check()
    page.shot("campaign-form")
    page.get_by_role("button", name="Save campaign").click()
    page.get_by_role("heading", name="Autumn ride").wait_for()

    # Generate: 4 safe candidates, short, from the advanced panel.
    page.get_by_role("link", name="Generate copy").first.click()
    page.get_by_label("Content type").select_option("ad_headline")
    page.get_by_label("Number of candidates").fill("4")
    page.get_by_label("Safe: close").check()
    page.locator("summary", has_text="Advanced").click()
    page.get_by_label("max_new_tokens", exact=True).fill("12")
    page.get_by_label("seed").fill("11")
    page.shot("generate")
    page.get_by_role("button", name="Launch generation").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    job = GenerationJob.objects.get(campaign__name="Autumn ride")
    assert job.total_candidates == 4

    # The progress bar moves until the page reloads with the candidates.
    seen = []
    deadline = time.monotonic() + 180
    while not page.locator("article.candidate").count():
        assert time.monotonic() < deadline, f"job did not finish; saw {seen}"
        bar = page.get_by_role("progressbar")
        if bar.count():
            status = page.locator("#job-progress").get_attribute("data-status")
            value = bar.get_attribute("aria-valuenow")
            if not seen or seen[-1] != (status, value):
                seen.append((status, value))
            if len(seen) == 1:
                page.shot("job-running")
        page.wait_for_timeout(100)
    assert seen[0][0] in ("queued", "running"), seen
    assert page.locator("#job-progress").get_attribute("data-status") == "succeeded"
    assert page.get_by_role("progressbar").get_attribute("aria-valuenow") == "100"
    assert page.locator("article.candidate").count() == 4
    page.shot("job")

    # Rate, edit and approve the best candidate by mouse.
    first = page.locator("article.candidate").first
    cid = int(first.get_attribute("data-id"))
    first.get_by_role("button", name="Rate 5 stars").click()
    page.locator(
        f'#cand-{cid} button[aria-label="Rate 5 stars"][aria-pressed="true"]'
    ).wait_for()
    card = page.locator(f"#cand-{cid}")
    card.get_by_role("button", name="Edit").click()
    card.get_by_label("Edited text").fill("Aurora X2: 40 km of quiet commute.")
    card.get_by_role("button", name="Save edit").click()
    page.locator(f"#cand-{cid}").get_by_text("Edited 1 time").wait_for()
    page.locator(f"#cand-{cid}").get_by_role("button", name="Approve").click()
    page.locator(f"#cand-{cid}.status-approved").wait_for()

    # And the second one by keyboard: j j moves to it, 2 rates, r rejects.
    page.keyboard.press("j")
    page.keyboard.press("j")
    second = page.evaluate(
        "() => document.activeElement.closest('article.candidate').dataset.id"
    )
    page.keyboard.press("2")
    page.locator(
        f'#cand-{second} button[aria-label="Rate 2 stars"][aria-pressed="true"]'
    ).wait_for()
    page.keyboard.press("r")
    page.locator(f"#cand-{second}.status-rejected").wait_for()

    assert Rating.objects.get(candidate_id=cid, user=admin_user).stars == 5
    assert Rating.objects.get(candidate_id=second, user=admin_user).stars == 2
    assert Revision.objects.get(candidate_id=cid).text == (
        "Aurora X2: 40 km of quiet commute."
    )
    assert ReviewDecision.objects.get(candidate_id=cid).decision == "approve"
    generated = Candidate.objects.get(pk=cid)
    assert generated.status == "approved"
    assert generated.text != "Aurora X2: 40 km of quiet commute."

    # Export the approved copy from the campaign page.
    page.open(f"/campaigns/{job.campaign_id}/")
    page.get_by_text("Aurora X2: 40 km of quiet commute.").wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    content = open(download_info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [(r["id"], r["text"]) for r in rows] == [
        (str(cid), "Aurora X2: 40 km of quiet commute.")
    ]
    assert rows[0]["original_text"] == generated.text
    assert rows[0]["avg_stars"] == "5.0"

    assert page.dialogs == []
    assert page.console_errors == []
