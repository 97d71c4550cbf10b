"""The review board in real headless Chromium: keyboard, escaping, export, phone.

Candidates are stored directly (make_review_job) so this test needs no model;
test_browser_generation.py makes them with the real worker and demo model.
"""

import csv
import io

import pytest

from tests.fixtures_accounts import PASSWORD
from tests.fixtures_browser import PHONE
from webapp.generation.models import Candidate
from webapp.review.models import Rating, Revision

pytestmark = pytest.mark.integration

XSS_NAME = "<script>alert(1)</script>"
XSS_TEXT = '<img src=x onerror="alert(2)"><b>Bold</b> claim'


@pytest.fixture
def board(ui_campaign, make_review_job, org):
    """A campaign with a hostile name and a job whose copy contains HTML."""
    from webapp.brand.models import Persona
    from webapp.brand.services import do_create_brand_voice

    voice = do_create_brand_voice(
        org, name="Calm", tone_words=["calm"], banned_words=["cheap"]
    )
    Persona.objects.create(organization=org, name="Commuters", interests=["cycling"])
    ui_campaign.name = XSS_NAME
    ui_campaign.brand_voice = voice
    ui_campaign.save()
    job = make_review_job(
        ui_campaign,
        6,
        texts=[
            XSS_TEXT,
            "Glide past traffic on the Aurora X2",
            "Your commute, quieter. Call 555-123-4567",
            "Fold it, carry it, ride it",
            "Forty kilometres of calm",
            "The city, on your schedule",
        ],
        flags={
            2: [{"code": "phone", "message": "contains a phone number: 555-123-4567"}]
        },
    )
    return job


def focused_card_id(page):
    return page.evaluate(
        "() => document.activeElement.closest('article.candidate')?.dataset.id"
    )


def test_review_board_by_keyboard_with_escaping_export_and_phone_layout(
    page, new_page, board, admin_user, viewer
):
    page.login(admin_user.username, PASSWORD)
    page.shot("dashboard")

    # Hostile campaign name: rendered as text, no script runs.
    page.open("/campaigns/")
    page.get_by_text(XSS_NAME).first.wait_for()
    page.shot("campaign-list")
    page.get_by_role("link", name=XSS_NAME).click()
    page.get_by_role("heading", name=XSS_NAME).wait_for()
    page.shot("campaign-detail")

    page.open("/review/")
    page.locator("article.candidate").first.wait_for()
    shown = page.locator(".candidate-text", has_text=XSS_TEXT)
    assert shown.count() == 1 and shown.is_visible()
    assert page.locator("article.candidate img").count() == 0
    assert page.get_by_text("contains a phone number: 555-123-4567").is_visible()
    page.shot("review-board")

    # j moves to the first card (best score), 4 rates it.
    ordered = [
        c.pk for c in Candidate.objects.filter(job=board).order_by("-score", "id")
    ]
    page.keyboard.press("j")
    assert focused_card_id(page) == str(ordered[0])
    page.keyboard.press("4")
    page.locator(
        f'#cand-{ordered[0]} .stars button[value="4"][aria-pressed="true"]'
    ).wait_for()
    assert Rating.objects.get(candidate_id=ordered[0], user=admin_user).stars == 4
    # Focus stays on the re-rendered card, so the next key acts on it too.
    assert focused_card_id(page) == str(ordered[0])

    # a approves it; j then r rejects the next one.
    page.keyboard.press("a")
    page.locator(f"#cand-{ordered[0]}.status-approved").wait_for()
    page.keyboard.press("j")
    assert focused_card_id(page) == str(ordered[1])
    page.keyboard.press("r")
    page.locator(f"#cand-{ordered[1]}.status-rejected").wait_for()
    page.keyboard.press("k")
    assert focused_card_id(page) == str(ordered[0])

    # e edits inline; Tab reaches "Save edit"; the original stays.
    page.keyboard.press("e")
    editor_box = page.locator(f"#edit-text-{ordered[0]}")
    assert editor_box.evaluate("el => el === document.activeElement")
    editor_box.fill("Glide past traffic, quietly.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(f"#cand-{ordered[0]}").get_by_text("Edited 1 time").wait_for()
    revision = Revision.objects.get(candidate_id=ordered[0])
    assert revision.text == "Glide past traffic, quietly."
    assert revision.user == admin_user
    original = Candidate.objects.get(pk=ordered[0]).text
    assert original != revision.text

    # ? lists the shortcuts; Escape closes the list.
    page.locator(f"#cand-{ordered[0]}").focus()
    page.keyboard.press("?")
    dialog = page.locator("dialog#shortcuts")
    dialog.wait_for(state="visible")
    page.shot("shortcuts", full_page=False)
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    # x ticks cards; "Compare selected" opens them side by side.
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.get_by_role("button", name="Compare selected").click()
    page.get_by_role("heading", name="Compare 2 candidates").wait_for()
    assert page.locator(".compare article.candidate").count() == 2
    page.shot("comparison")

    # Export CSV: the approved candidate with its edited text.
    page.open("/review/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export approved CSV").click()
    content = open(download_info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [r["text"] for r in rows] == ["Glide past traffic, quietly."]
    assert rows[0]["campaign"] == XSS_NAME

    page.open("/models/")
    page.get_by_role("heading", name="Model versions").wait_for()
    page.shot("model-versions")
    page.open("/brand-voices/")
    page.shot("brand-voices")

    # Phone width: the board fits without sideways scrolling.
    phone = new_page(viewport=PHONE)
    phone.login(admin_user.username, PASSWORD)
    phone.open("/review/")
    phone.locator("article.candidate").first.wait_for()
    overflow = phone.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"page is {overflow}px wider than the phone"
    phone.shot("review-board-phone")

    # A viewer gets no controls and the shortcuts do nothing.
    reader = new_page()
    reader.login(viewer.username, PASSWORD)
    reader.open("/review/")
    reader.locator("article.candidate").first.wait_for()
    assert reader.get_by_role("button", name="Approve").count() == 0
    reader.keyboard.press("j")
    reader.keyboard.press("a")
    reader.keyboard.press("5")
    reader.wait_for_timeout(300)
    assert Rating.objects.filter(user=viewer).count() == 0

    for p in (page, phone, reader):
        assert p.dialogs == [], p.dialogs
        assert p.console_errors == [], p.console_errors
