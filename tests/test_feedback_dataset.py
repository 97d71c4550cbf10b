"""The dataset builder: which feedback becomes SFT examples and preference pairs."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.fixtures_training import make_candidates, make_spec
from webapp.models_registry.services import do_register_model_version
from webapp.review.services import do_decide, do_rate, do_revise
from webapp.training.dataset import (
    PREFERENCE,
    SFT,
    DatasetOptions,
    build_dataset,
    clean_options,
    prompt_text,
)


@pytest.fixture
def version(db, model_dir, trained_tiny_checkpoint):
    return do_register_model_version(trained_tiny_checkpoint, name="ds-base")[0]


def sft_texts(org, **options):
    dataset = build_dataset(org, SFT, DatasetOptions(**options))
    return sorted(row["meta"]["text"] for row in dataset.rows)


def test_approved_and_well_rated_candidates_become_sft_examples(
    org, campaign, version, editor
):
    approved, rated, low, untouched, rejected = make_candidates(
        campaign,
        version,
        ["Blend it fresh.", "Smoothies in seconds.", "Meh.", "Never seen.", "Nope."],
    )
    do_decide(approved, editor, "approve")
    do_rate(rated, editor, 5)
    do_rate(low, editor, 2)
    do_rate(rejected, editor, 5)
    do_decide(rejected, editor, "reject")
    assert sft_texts(org) == ["Blend it fresh.", "Smoothies in seconds."]


def test_min_rating_excludes_approved_candidates_rated_below_it(
    org, campaign, version, editor
):
    first, second = make_candidates(campaign, version, ["Four stars.", "Five stars."])
    do_rate(first, editor, 4)
    do_decide(first, editor, "approve")
    do_rate(second, editor, 5)
    assert sft_texts(org, min_rating=5) == ["Five stars."]
    assert sft_texts(org, min_rating=4) == ["Five stars.", "Four stars."]


def test_sft_uses_the_latest_revision_of_an_edited_candidate(
    org, campaign, version, editor, admin_user
):
    (candidate,) = make_candidates(campaign, version, ["Original words."])
    do_revise(candidate, editor, "First edit.")
    do_revise(candidate, admin_user, "Final edit, free shipping.")
    do_decide(candidate, editor, "approve")
    dataset = build_dataset(org, SFT)
    assert [row["meta"]["text"] for row in dataset.rows] == [
        "Final edit, free shipping."
    ]
    assert dataset.rows[0]["meta"]["edited"] is True


def test_sft_rows_use_trl_columns_with_the_models_prompt_format(
    org, campaign, version, editor
):
    (candidate,) = make_candidates(campaign, version, ["Acme Blender, blended."])
    do_decide(candidate, editor, "approve")
    row = build_dataset(org, SFT).rows[0]
    assert set(row) == {"prompt", "completion", "meta"}
    assert row["prompt"].startswith("<|bos|><|type:slogan|><|lang:en|>")
    assert row["prompt"].endswith("<|sep|>")
    # The product name is a placeholder, as the model was taught to write it.
    assert row["completion"] == "{product}, blended."
    assert row["prompt"] == prompt_text(make_spec(campaign))


def test_preference_pairs_come_from_ratings_of_the_same_prompt(
    org, campaign, version, editor
):
    best, middle, worst = make_candidates(campaign, version, ["Best.", "Mid.", "Bad."])
    do_rate(best, editor, 5)
    do_rate(middle, editor, 4)
    do_rate(worst, editor, 1)
    # Another prompt: never paired with the first one's candidates.
    (other,) = make_candidates(
        campaign, version, ["Other prompt."], spec=make_spec(campaign, keywords=["x"])
    )
    do_rate(other, editor, 1)
    dataset = build_dataset(org, PREFERENCE)
    pairs = {
        (r["meta"]["chosen_candidate"], r["meta"]["rejected_candidate"])
        for r in dataset.rows
    }
    # 5 vs 4 is one star apart (kept), 5 vs 1 and 4 vs 1 too.
    assert pairs == {(best.pk, middle.pk), (best.pk, worst.pk), (middle.pk, worst.pk)}
    assert all(r["meta"]["source"] == "rating" for r in dataset.rows)


def test_an_edit_is_preferred_over_the_generated_text(org, campaign, version, editor):
    (candidate,) = make_candidates(campaign, version, ["Plain text."])
    do_revise(candidate, editor, "Better text?")
    rows = build_dataset(org, PREFERENCE).rows
    assert [(r["chosen"], r["rejected"], r["meta"]["source"]) for r in rows] == [
        ("Better text?", "Plain text.", "edit")
    ]


def test_approved_beats_rejected_of_the_same_prompt(org, campaign, version, editor):
    good, bad = make_candidates(campaign, version, ["Approved.", "Rejected."])
    do_decide(good, editor, "approve")
    do_decide(bad, editor, "reject")
    rows = build_dataset(org, PREFERENCE).rows
    assert [(r["chosen"], r["rejected"], r["meta"]["source"]) for r in rows] == [
        ("Approved.", "Rejected.", "decision")
    ]


def test_duplicates_are_dropped_and_counted(org, campaign, version, editor):
    for _ in range(2):
        (candidate,) = make_candidates(campaign, version, ["Same words."])
        do_decide(candidate, editor, "approve")
    dataset = build_dataset(org, SFT)
    assert dataset.card["count"] == 1
    assert dataset.card["counts"]["duplicates_dropped"] == 1


def test_personal_data_is_excluded_whether_flagged_or_added_by_an_edit(
    org, campaign, version, editor
):
    flagged, edited, clean = make_candidates(
        campaign,
        version,
        ["Mail me at a@b.com.", "Fine at first.", "Clean copy."],
        flags=[[{"code": "email", "message": "contains an e-mail address"}], [], []],
    )
    for candidate in (flagged, edited, clean):
        do_decide(candidate, editor, "approve")
    do_revise(edited, editor, "Call +1 415 555 0100 now.")
    for fmt in (SFT, PREFERENCE):
        dataset = build_dataset(org, fmt)
        assert "a@b.com" not in dataset.text and "555" not in dataset.text
        assert dataset.card["counts"]["excluded_personal_data"] == 2
    assert sft_texts(org) == ["Clean copy."]


def test_filters_by_campaign_content_type_and_date(
    org, campaign, version, editor, admin_user
):
    from webapp.campaigns.services import do_create_campaign
    from webapp.generation.models import Candidate

    second = do_create_campaign(
        org, admin_user, name="Autumn", product_name="Acme Kettle", language="en"
    )
    (slogan,) = make_candidates(campaign, version, ["Spring slogan."])
    (headline,) = make_candidates(
        campaign, version, ["Spring headline here."], content_type="ad_headline"
    )
    (autumn,) = make_candidates(second, version, ["Autumn slogan."])
    for candidate in (slogan, headline, autumn):
        do_decide(candidate, editor, "approve")
    Candidate.objects.filter(pk=autumn.pk).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    assert sft_texts(org, campaigns=(second.pk,)) == ["Autumn slogan."]
    assert sft_texts(org, content_types=("ad_headline",)) == ["Spring headline here."]
    since = timezone.now() - timedelta(days=1)
    assert sft_texts(org, since=since) == ["Spring headline here.", "Spring slogan."]
    until = timezone.now() - timedelta(days=2)
    assert sft_texts(org, until=until) == ["Autumn slogan."]


def test_other_organizations_feedback_never_appears(
    org, campaign, version, editor, other_campaign, outsider
):
    (mine,) = make_candidates(campaign, version, ["Mine."])
    (theirs,) = make_candidates(other_campaign, version, ["Globex secret copy."])
    do_decide(mine, editor, "approve")
    do_decide(theirs, outsider, "approve")
    assert "Globex" not in build_dataset(org, SFT).text


def test_card_counts_date_range_and_hash_of_the_exact_bytes(
    org, campaign, version, editor
):
    first, second = make_candidates(campaign, version, ["One.", "Two."])
    do_decide(first, editor, "approve")
    do_rate(second, editor, 5)
    dataset = build_dataset(org, SFT)
    card = dataset.card
    assert card["count"] == 2
    assert card["counts"]["by_content_type"] == {"slogan": 2}
    assert card["counts"]["by_source"]["approved"] == 1
    assert card["counts"]["by_source"]["rating"] == 1
    assert card["sha256"] == hashlib.sha256(dataset.text.encode()).hexdigest()
    assert card["date_range"]["from"] <= card["date_range"]["to"]
    lines = dataset.text.splitlines()
    assert [json.loads(line) for line in lines] == dataset.rows
    # The same feedback hashes the same.
    assert build_dataset(org, SFT).sha256 == dataset.sha256


def test_bad_options_name_each_field(org, other_campaign):
    with pytest.raises(ValidationError) as caught:
        clean_options(
            {
                "min_rating": 9,
                "since": "last week",
                "campaigns": [other_campaign.pk],
                "content_types": ["poem"],
            },
            org,
        )
    errors = caught.value.message_dict
    assert (
        "min_rating must be a whole number from 1 to 5, got 9"
        in errors["min_rating"][0]
    )
    assert "since must be a date" in errors["since"][0]
    assert f"no campaigns with ids [{other_campaign.pk}]" in errors["campaigns"][0]
    assert "unknown content types ['poem']" in errors["content_types"][0]


def test_until_before_since_is_refused(org):
    with pytest.raises(ValidationError) as caught:
        clean_options({"since": "2025-02-01", "until": "2025-01-01"}, org)
    assert "until must not be before since" in caught.value.message_dict["until"]


def test_builder_reads_feedback_in_one_query(
    org, campaign, version, editor, django_assert_num_queries
):
    candidates = make_candidates(campaign, version, [f"Text {i}." for i in range(12)])
    for i, candidate in enumerate(candidates):
        do_rate(candidate, editor, 1 + i % 5)
        if i % 3 == 0:
            do_revise(candidate, editor, f"Edited {i}.")
    # One query: candidates with their job and feedback annotated.
    with django_assert_num_queries(1):
        build_dataset(org, PREFERENCE)
