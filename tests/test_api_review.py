"""The review API: ratings, revisions, decisions, bulk, export, more-like-this."""

import csv
import io

import pytest

from webapp.generation.models import CandidateStatus
from webapp.review.models import Rating, RatingEvent, ReviewDecision, Revision


@pytest.fixture
def candidates(ui_campaign, make_review_job):
    return list(make_review_job(ui_campaign, 3).candidates.order_by("index"))


def test_editor_rates_and_rerates_keeping_history(api_client_for, editor, candidates):
    client = api_client_for(editor)
    c = candidates[0]
    first = client.post("/api/v1/ratings/", {"candidate": c.pk, "stars": 2})
    assert first.status_code == 201
    second = client.post("/api/v1/ratings/", {"candidate": c.pk, "stars": 4})
    assert second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert [h["stars"] for h in second.json()["history"]] == [2, 4]
    assert Rating.objects.get().stars == 4
    assert RatingEvent.objects.count() == 2


def test_rating_out_of_range_is_400_per_field(api_client_for, editor, candidates):
    response = api_client_for(editor).post(
        "/api/v1/ratings/", {"candidate": candidates[0].pk, "stars": 6}
    )
    assert response.status_code == 400
    assert "stars" in response.json()
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "url,payload",
    [
        ("/api/v1/ratings/", {"stars": 5}),
        ("/api/v1/revisions/", {"text": "new"}),
        ("/api/v1/decisions/", {"decision": "approve"}),
    ],
)
def test_viewer_and_marketer_writes_are_403(
    api_client_for, viewer, marketer, candidates, url, payload
):
    for user in (viewer, marketer):
        response = api_client_for(user).post(
            url, {"candidate": candidates[0].pk, **payload}
        )
        assert response.status_code == 403, user
    assert not (
        Rating.objects.exists()
        or Revision.objects.exists()
        or ReviewDecision.objects.exists()
    )


def test_other_organization_cannot_see_or_touch_feedback(
    api_client_for, editor, outsider, candidates
):
    c = candidates[0]
    rating = api_client_for(editor).post(
        "/api/v1/ratings/", {"candidate": c.pk, "stars": 3}
    )
    client = api_client_for(outsider)
    assert client.get("/api/v1/ratings/").json()["count"] == 0
    assert client.get(f"/api/v1/ratings/{rating.json()['id']}/").status_code == 404
    response = client.post(
        "/api/v1/decisions/", {"candidate": c.pk, "decision": "approve"}
    )
    assert response.status_code in (400, 403)
    assert "candidate" in response.json() or response.status_code == 403
    assert not ReviewDecision.objects.exists()


def test_revision_keeps_the_original(api_client_for, editor, candidates):
    c = candidates[0]
    response = api_client_for(editor).post(
        "/api/v1/revisions/", {"candidate": c.pk, "text": "Better copy"}
    )
    assert response.status_code == 201
    assert response.json()["user"] == editor.username
    c.refresh_from_db()
    assert c.text != "Better copy"
    listing = api_client_for(editor).get(f"/api/v1/revisions/?candidate={c.pk}")
    assert [r["text"] for r in listing.json()["results"]] == ["Better copy"]


def test_decision_sets_candidate_status(api_client_for, editor, candidates):
    c = candidates[0]
    response = api_client_for(editor).post(
        "/api/v1/decisions/", {"candidate": c.pk, "decision": "reject", "note": "off"}
    )
    assert response.status_code == 201
    assert response.json()["candidate_status"] == "rejected"
    c.refresh_from_db()
    assert c.status == CandidateStatus.REJECTED


def test_bulk_decision_is_all_or_nothing(
    api_client_for, editor, candidates, other_org, outsider, make_review_job
):
    from webapp.campaigns.services import do_create_campaign

    foreign_campaign = do_create_campaign(
        other_org, outsider, name="G", product_name="G"
    )
    foreign = make_review_job(foreign_campaign, 1).candidates.get()
    client = api_client_for(editor)
    ids = [c.pk for c in candidates]
    bad = client.post(
        "/api/v1/decisions/bulk/",
        {"candidates": ids + [foreign.pk], "decision": "approve"},
        format="json",
    )
    assert bad.status_code == 400
    assert str(foreign.pk) in bad.json()["candidates"][0]
    assert not ReviewDecision.objects.exists()
    ok = client.post(
        "/api/v1/decisions/bulk/",
        {"candidates": ids, "decision": "approve"},
        format="json",
    )
    assert ok.status_code == 200
    assert ok.json()["count"] == 3
    assert set(candidates[0].job.candidates.values_list("status", flat=True)) == {
        "approved"
    }


def test_export_approved_as_csv_and_json(api_client_for, editor, viewer, candidates):
    client = api_client_for(editor)
    c = candidates[2]
    client.post("/api/v1/revisions/", {"candidate": c.pk, "text": "Final words"})
    client.post("/api/v1/decisions/", {"candidate": c.pk, "decision": "approve"})
    reader = api_client_for(viewer)
    response = reader.get(
        f"/api/v1/exports/approved/?campaign={c.campaign_id}&format=csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["text"] for r in rows] == ["Final words"]
    data = reader.get("/api/v1/exports/approved/?format=json").json()
    assert data["count"] == 1
    assert data["results"][0]["original_text"] == c.text
    assert reader.get("/api/v1/exports/approved/?format=xml").status_code == 400


def test_export_of_other_organizations_campaign_is_404(
    api_client_for, outsider, candidates
):
    response = api_client_for(outsider).get(
        f"/api/v1/exports/approved/?campaign={candidates[0].campaign_id}"
    )
    assert response.status_code == 404


def test_more_like_this_needs_the_launch_role(
    api_client_for, editor, marketer, candidates, org, ui_model_version, admin_user
):
    from webapp.models_registry.services import do_activate_version

    do_activate_version(ui_model_version, org, admin_user)
    payload = {"candidate": candidates[0].pk, "num_candidates": 2}
    assert (
        api_client_for(editor).post("/api/v1/more-like-this/", payload).status_code
        == 403
    )
    response = api_client_for(marketer).post("/api/v1/more-like-this/", payload)
    assert response.status_code == 201
    assert isinstance(response.json()["job"], int)
