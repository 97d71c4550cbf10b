"""GET /api/v1/feedback/export/ and /api/v1/feedback/card/."""

import json

import pytest

from tests.fixtures_training import make_candidates
from webapp.review.services import do_decide, do_rate, do_revise

EXPORT = "/api/v1/feedback/export/"
CARD = "/api/v1/feedback/card/"


@pytest.fixture
def feedback(campaign, base_version, editor):
    good, bad, edited = make_candidates(
        campaign, base_version, ["Blend fresh.", "Meh.", "Plain words."]
    )
    do_rate(good, editor, 5)
    do_rate(bad, editor, 1)
    do_revise(edited, editor, "Acme Blender: fresh words?")
    do_decide(edited, editor, "approve")
    return good, bad, edited


def lines(response) -> list[dict]:
    return [json.loads(line) for line in response.content.decode().splitlines()]


def test_admin_downloads_sft_jsonl_with_trl_columns(
    api_client_for, admin_user, org, feedback
):
    response = api_client_for(admin_user).get(EXPORT, {"format": "sft"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/jsonl")
    assert "attachment" in response["Content-Disposition"]
    rows = lines(response)
    assert {tuple(sorted(r)) for r in rows} == {("completion", "meta", "prompt")}
    assert sorted(r["meta"]["text"] for r in rows) == [
        "Acme Blender: fresh words?",
        "Blend fresh.",
    ]
    assert response["X-Dataset-Count"] == "2"
    card = api_client_for(admin_user).get(CARD, {"format": "sft"}).json()
    assert card["sha256"] == response["X-Dataset-SHA256"]
    assert card["count"] == 2


def test_preference_export_has_prompt_chosen_rejected(
    api_client_for, admin_user, feedback
):
    response = api_client_for(admin_user).get(EXPORT, {"format": "preference"})
    assert response.status_code == 200
    rows = lines(response)
    assert rows and all(
        set(r) == {"prompt", "chosen", "rejected", "meta"} for r in rows
    )
    sources = sorted(r["meta"]["source"] for r in rows)
    assert "edit" in sources and "rating" in sources


def test_filters_apply_and_bad_values_answer_400_per_field(
    api_client_for, admin_user, feedback
):
    client = api_client_for(admin_user)
    response = client.get(EXPORT, {"format": "sft", "content_types": "ad_headline"})
    assert response.status_code == 200 and response.content == b""
    response = client.get(
        EXPORT, {"format": "sft", "min_rating": "7", "since": "yesterday"}
    )
    assert response.status_code == 400
    body = response.json()
    assert "min_rating must be a whole number from 1 to 5" in body["min_rating"][0]
    assert "since must be a date" in body["since"][0]
    response = client.get(EXPORT, {"format": "csv"})
    assert response.status_code == 400
    assert response.json() == {
        "format": ["format must be sft or preference, got 'csv'"]
    }


def test_editor_and_viewer_cannot_export(api_client_for, editor, viewer, feedback):
    for user in (editor, viewer):
        response = api_client_for(user).get(EXPORT, {"format": "sft"})
        assert response.status_code == 403, user


def test_other_organization_is_404(api_client_for, outsider, org, feedback):
    response = api_client_for(outsider).get(
        EXPORT, {"format": "sft", "organization": org.pk}
    )
    assert response.status_code == 404


def test_other_organizations_campaign_filter_is_refused(
    api_client_for, admin_user, other_campaign, feedback
):
    response = api_client_for(admin_user).get(
        EXPORT, {"format": "sft", "campaigns": str(other_campaign.pk)}
    )
    assert response.status_code == 400
    assert "no campaigns with ids" in response.json()["campaigns"][0]


def test_export_query_count_does_not_grow_with_rows(
    api_client_for,
    admin_user,
    campaign,
    base_version,
    editor,
    django_assert_num_queries,
):
    candidates = make_candidates(campaign, base_version, [f"C {i}." for i in range(20)])
    for candidate in candidates:
        do_rate(candidate, editor, 5)
    client = api_client_for(admin_user)
    # Memberships (roles), the organization, the candidates with feedback.
    with django_assert_num_queries(3):
        response = client.get(EXPORT, {"format": "sft"})
    assert len(lines(response)) == 20
