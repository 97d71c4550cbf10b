"""Review board actions through the Django client: roles, CSRF, history kept."""

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_ui_pages import login
from webapp.generation.models import CandidateStatus
from webapp.review.models import Rating, RatingEvent, ReviewDecision, Revision

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def candidates(ui_campaign, make_review_job):
    return list(make_review_job(ui_campaign, 4).candidates.order_by("index"))


def test_editor_rates_with_htmx_and_gets_the_card_back(editor, candidates):
    c = candidates[0]
    response = login(editor).post(
        reverse("ui:candidate_rate", args=[c.pk]), {"stars": "4"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<article")
    assert 'aria-pressed="true">★</button>' in body
    assert Rating.objects.get(candidate=c, user=editor).stars == 4


def test_changing_a_rating_keeps_the_earlier_value(editor, candidates):
    c = candidates[0]
    client = login(editor)
    for stars in ("2", "5", "5"):
        client.post(reverse("ui:candidate_rate", args=[c.pk]), {"stars": stars})
    assert Rating.objects.filter(candidate=c, user=editor).count() == 1
    assert Rating.objects.get(candidate=c, user=editor).stars == 5
    events = list(
        RatingEvent.objects.filter(candidate=c).values_list("previous_stars", "stars")
    )
    assert events == [(None, 2), (2, 5)]


def test_out_of_range_stars_are_refused_with_a_message(editor, candidates):
    c = candidates[0]
    response = login(editor).post(
        reverse("ui:candidate_rate", args=[c.pk]), {"stars": "9"}, **HTMX
    )
    assert response.status_code == 400
    assert b"stars must be from 1 to 5, got 9" in response.content
    assert not Rating.objects.exists()


def test_plain_form_post_redirects_back_to_the_board(editor, candidates):
    c = candidates[0]
    nxt = reverse("ui:review_board") + "?status=new"
    response = login(editor).post(
        reverse("ui:candidate_decide", args=[c.pk]),
        {"decision": "approve", "next": nxt},
    )
    assert response.status_code == 302
    assert response["Location"] == nxt + f"#cand-{c.pk}"


def test_edit_is_a_new_revision_and_the_original_stays(editor, candidates):
    c = candidates[0]
    original = c.text
    client = login(editor)
    client.post(reverse("ui:candidate_revise", args=[c.pk]), {"text": "First edit"})
    response = client.post(
        reverse("ui:candidate_revise", args=[c.pk]), {"text": "Second edit"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Second edit" in body
    assert "Edited 2 times" in body
    assert original in body
    c.refresh_from_db()
    assert c.text == original
    assert list(
        Revision.objects.filter(candidate=c)
        .order_by("created_at", "id")
        .values_list("text", flat=True)
    ) == ["First edit", "Second edit"]


def test_empty_edit_is_refused(editor, candidates):
    response = login(editor).post(
        reverse("ui:candidate_revise", args=[candidates[0].pk]), {"text": "  "}, **HTMX
    )
    assert response.status_code == 400
    assert b"text is empty" in response.content
    assert not Revision.objects.exists()


def test_latest_decision_sets_the_status_and_all_are_kept(editor, candidates):
    c = candidates[0]
    client = login(editor)
    client.post(reverse("ui:candidate_decide", args=[c.pk]), {"decision": "approve"})
    client.post(reverse("ui:candidate_decide", args=[c.pk]), {"decision": "reject"})
    c.refresh_from_db()
    assert c.status == CandidateStatus.REJECTED
    assert c.status_changed_by == editor
    assert list(
        ReviewDecision.objects.filter(candidate=c)
        .order_by("created_at", "id")
        .values_list("decision", flat=True)
    ) == ["approve", "reject"]


def test_bulk_approve(editor, candidates):
    ids = [c.pk for c in candidates[:3]]
    response = login(editor).post(
        reverse("ui:review_bulk"),
        {"ids": ids, "action": "approve", "note": "launch set"},
    )
    assert response.status_code == 302
    statuses = {c.pk: c.status for c in candidates[0].job.candidates.all()}
    assert [statuses[i] for i in ids] == ["approved"] * 3
    assert statuses[candidates[3].pk] == "new"
    assert ReviewDecision.objects.filter(note="launch set").count() == 3


def test_compare_action_redirects_to_the_comparison(viewer, candidates):
    ids = [candidates[0].pk, candidates[2].pk]
    client = login(viewer)
    response = client.post(reverse("ui:review_bulk"), {"ids": ids, "action": "compare"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Compare 2 candidates" in page
    assert candidates[0].text in page and candidates[2].text in page


@pytest.mark.parametrize(
    "name,data",
    [
        ("ui:candidate_rate", {"stars": "5"}),
        ("ui:candidate_decide", {"decision": "approve"}),
        ("ui:candidate_revise", {"text": "forged"}),
        ("ui:candidate_more", {}),
    ],
)
def test_viewer_forged_post_is_403(viewer, candidates, name, data):
    c = candidates[0]
    response = login(viewer).post(reverse(name, args=[c.pk]), data)
    assert response.status_code == 403
    assert not Rating.objects.exists()
    assert not Revision.objects.exists()
    assert not ReviewDecision.objects.exists()
    assert c.job.__class__.objects.count() == 1


def test_viewer_forged_bulk_approve_is_403(viewer, candidates):
    response = login(viewer).post(
        reverse("ui:review_bulk"), {"ids": [candidates[0].pk], "action": "approve"}
    )
    assert response.status_code == 403
    assert not ReviewDecision.objects.exists()


def test_marketer_cannot_approve(marketer, candidates):
    response = login(marketer).post(
        reverse("ui:candidate_decide", args=[candidates[0].pk]), {"decision": "approve"}
    )
    assert response.status_code == 403


def test_post_without_csrf_token_is_refused(editor, candidates):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post(
        reverse("ui:candidate_rate", args=[candidates[0].pk]), {"stars": "3"}
    )
    assert response.status_code == 403
    assert not Rating.objects.exists()


def test_htmx_post_with_csrf_header_is_accepted(editor, candidates):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    board = client.get(reverse("ui:review_board"))
    token = board.context["csrf_token"]
    response = client.post(
        reverse("ui:candidate_rate", args=[candidates[0].pk]),
        {"stars": "3"},
        HTTP_X_CSRFTOKEN=str(token),
        **HTMX,
    )
    assert response.status_code == 200
    assert Rating.objects.get().stars == 3


def test_board_filters_and_sorts(editor, candidates, ui_campaign, make_review_job):
    flagged_job = make_review_job(
        ui_campaign,
        2,
        texts=["Mail me at a@b.com", "Clean copy"],
        flags={0: [{"code": "email", "message": "contains an e-mail address"}]},
    )
    client = login(editor)
    client.post(reverse("ui:candidate_rate", args=[candidates[3].pk]), {"stars": "5"})
    body = client.get(reverse("ui:review_board") + "?flagged=yes").content.decode()
    assert "Mail me at a@b.com" in body
    assert "Clean copy" not in body
    assert "contains an e-mail address" in body
    body = client.get(
        reverse("ui:review_board") + f"?job={flagged_job.pk}&sort=-score"
    ).content.decode()
    assert body.index("Clean copy") < body.index("Mail me at a@b.com")
    body = client.get(reverse("ui:review_board") + "?min_stars=4").content.decode()
    assert body.count("<article") == 1
    assert candidates[3].text in body
    body = client.get(reverse("ui:review_board") + "?sort=rating").content.decode()
    assert body.index(candidates[3].text) < body.index(candidates[0].text)


def test_board_is_paginated(editor, ui_campaign, make_review_job):
    make_review_job(ui_campaign, 30)
    client = login(editor)
    first = client.get(reverse("ui:review_board")).content.decode()
    assert first.count("<article") == 24
    assert "Page 1 of 2" in first
    second = client.get(reverse("ui:review_board") + "?page=2").content.decode()
    assert second.count("<article") == 6


def test_export_approved_csv_and_json(editor, candidates, ui_campaign):
    client = login(editor)
    c = candidates[1]
    client.post(reverse("ui:candidate_revise", args=[c.pk]), {"text": "=Edited copy"})
    client.post(reverse("ui:candidate_decide", args=[c.pk]), {"decision": "approve"})
    client.post(
        reverse("ui:candidate_decide", args=[candidates[2].pk]), {"decision": "reject"}
    )
    response = client.get(
        reverse("ui:review_export") + f"?campaign={ui_campaign.pk}&format=csv"
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    # A leading "=" is quoted so a spreadsheet does not run it as a formula.
    assert rows[0]["text"] == "'=Edited copy"
    assert rows[0]["original_text"] == c.text
    assert rows[0]["approved_by"] == editor.username
    data = json.loads(
        client.get(reverse("ui:review_export") + "?format=json").content.decode()
    )
    assert data["count"] == 1
    assert data["results"][0]["text"] == "=Edited copy"
    assert data["results"][0]["edited"] is True
    bad = client.get(reverse("ui:review_export") + "?format=xml")
    assert bad.status_code == 400


def test_export_of_another_organizations_campaign_is_404(outsider, ui_campaign):
    response = login(outsider).get(
        reverse("ui:review_export") + f"?campaign={ui_campaign.pk}&format=csv"
    )
    assert response.status_code == 404
