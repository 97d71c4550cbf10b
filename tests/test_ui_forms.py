"""Forms of the browser UI: what they save, what they refuse and how they say it."""

import pytest
from django.urls import reverse

from tests.test_ui_pages import login
from webapp.brand.models import BrandVoice, Persona
from webapp.campaigns.models import Campaign
from webapp.generation.models import GenerationJob
from webapp.models_registry.services import do_activate_version


def campaign_data(**overrides):
    data = {
        "name": "Autumn push",
        "status": "active",
        "language": "en",
        "product_name": "Aurora X2",
        "product_description": "Light e-bike.",
        "key_facts": "40 km range\n\n  Folds in 10 seconds  \n",
        "keywords": "commute\nfolding bike",
        "channels": ["social", "search"],
        "content_types": ["ad_headline", "slogan"],
    }
    data.update(overrides)
    return data


def test_marketer_creates_a_campaign_with_one_item_per_line(marketer, org):
    response = login(marketer).post(reverse("ui:campaign_create"), campaign_data())
    campaign = Campaign.objects.get(name="Autumn push")
    assert response.status_code == 302
    assert response["Location"] == reverse("ui:campaign_detail", args=[campaign.pk])
    assert campaign.key_facts == ["40 km range", "Folds in 10 seconds"]
    assert campaign.keywords == ["commute", "folding bike"]
    assert campaign.owner == marketer
    assert campaign.organization == org


def test_too_long_keyword_is_refused_by_line_number(marketer):
    data = campaign_data(keywords="ok\n" + "x" * 81)
    response = login(marketer).post(reverse("ui:campaign_create"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Line 2 is 81 characters long; at most 80 allowed" in body
    assert not Campaign.objects.exists()


def test_too_many_facts_are_refused(marketer):
    data = campaign_data(key_facts="\n".join(f"fact {i}" for i in range(31)))
    body = login(marketer).post(reverse("ui:campaign_create"), data).content.decode()
    assert "has 31 items; at most 30 allowed" in body
    assert not Campaign.objects.exists()


def test_missing_required_fields_are_named(marketer):
    body = (
        login(marketer)
        .post(reverse("ui:campaign_create"), campaign_data(name="", product_name=""))
        .content.decode()
    )
    assert body.count("This field is required.") == 2
    assert "Please correct the fields marked below." in body


def test_brand_voice_of_another_organization_cannot_be_chosen(marketer, other_org):
    foreign = BrandVoice.objects.create(organization=other_org, name="Globex voice")
    data = campaign_data(brand_voice=foreign.pk)
    body = login(marketer).post(reverse("ui:campaign_create"), data).content.decode()
    assert "Select a valid choice" in body
    assert "Globex voice" not in body
    assert not Campaign.objects.exists()


def test_campaign_edit_replaces_personas(marketer, org, ui_campaign):
    persona = Persona.objects.create(organization=org, name="Commuters")
    data = campaign_data(name="Spring launch v2", personas=[persona.pk])
    client = login(marketer)
    response = client.post(reverse("ui:campaign_edit", args=[ui_campaign.pk]), data)
    assert response.status_code == 302
    ui_campaign.refresh_from_db()
    assert ui_campaign.name == "Spring launch v2"
    assert list(ui_campaign.personas.all()) == [persona]


def test_viewer_cannot_open_or_post_the_campaign_form(viewer, ui_campaign):
    client = login(viewer)
    assert client.get(reverse("ui:campaign_create")).status_code == 403
    response = client.post(reverse("ui:campaign_create"), campaign_data())
    assert response.status_code == 403
    response = client.post(
        reverse("ui:campaign_edit", args=[ui_campaign.pk]), campaign_data(name="x")
    )
    assert response.status_code == 403
    assert Campaign.objects.get().name == "Spring launch"


def test_campaign_list_search_and_filters(admin_user, org):
    from webapp.campaigns.services import do_create_campaign

    do_create_campaign(
        org, admin_user, name="Coffee", product_name="Beans", content_types=["slogan"]
    )
    do_create_campaign(
        org,
        admin_user,
        name="Tea",
        product_name="Leaves",
        status="active",
        language="zh",
        content_types=["ad_headline"],
    )
    client = login(admin_user)

    def names(query):
        body = client.get(reverse("ui:campaign_list") + query).content.decode()
        return [n for n in ("Coffee", "Tea") if f">{n}</a>" in body]

    assert names("") == ["Coffee", "Tea"]
    assert names("?q=leav") == ["Tea"]
    assert names("?status=active") == ["Tea"]
    assert names("?language=zh") == ["Tea"]
    assert names("?content_type=slogan") == ["Coffee"]


def test_brand_voice_lists_and_example_copy(editor, org):
    data = {
        "name": "Warm & plain",
        "description": "",
        "tone_words": "warm\nplain",
        "banned_words": "cheap\nguarantee",
        "required_phrases": "Free returns",
        "example_copy": "First example\nover two lines\n---\nSecond example",
        "languages": ["en"],
        "allowed_domains": "example.com",
    }
    response = login(editor).post(reverse("ui:brandvoice_create"), data)
    assert response.status_code == 302
    voice = BrandVoice.objects.get(organization=org)
    assert voice.banned_words == ["cheap", "guarantee"]
    assert voice.example_copy == ["First example\nover two lines", "Second example"]
    # The edit form shows the lists back one per line.
    body = login(editor).get(reverse("ui:brandvoice_edit", args=[voice.pk]))
    assert "cheap\nguarantee</textarea>" in body.content.decode()


def test_brand_voice_name_must_be_unique_in_the_organization(editor, org):
    BrandVoice.objects.create(organization=org, name="Warm")
    response = login(editor).post(
        reverse("ui:brandvoice_create"), {"name": "warm", "languages": []}
    )
    assert "already used in this organization" in response.content.decode()
    assert BrandVoice.objects.count() == 1


def test_brand_voice_bad_domain_is_refused(editor):
    response = login(editor).post(
        reverse("ui:brandvoice_create"),
        {"name": "V", "allowed_domains": "https://example.com/path"},
    )
    assert "must be a host name like example.com" in response.content.decode()
    assert not BrandVoice.objects.exists()


def test_persona_age_range_must_be_ordered(editor):
    response = login(editor).post(
        reverse("ui:persona_create"), {"name": "Teens", "age_min": 30, "age_max": 20}
    )
    assert "age_max must be at least age_min (30), got 20" in response.content.decode()
    assert not Persona.objects.exists()


def test_persona_saved_and_deleted(editor, org):
    client = login(editor)
    client.post(
        reverse("ui:persona_create"),
        {"name": "Students", "interests": "music\ngaming", "locale": "en-GB"},
    )
    persona = Persona.objects.get()
    assert persona.interests == ["music", "gaming"]
    client.post(reverse("ui:persona_delete", args=[persona.pk]))
    assert not Persona.objects.exists()


def test_profile_form_saves_display_name_and_language(viewer):
    client = login(viewer)
    response = client.post(
        reverse("ui:profile"), {"display_name": "Vee", "default_language": "zh"}
    )
    assert response.status_code == 302
    viewer.profile.refresh_from_db()
    assert viewer.profile.display_name == "Vee"
    assert viewer.profile.default_language == "zh"
    assert b'<html lang="zh">' in client.get(reverse("ui:dashboard")).content


def test_profile_refuses_an_unknown_language(viewer):
    response = login(viewer).post(
        reverse("ui:profile"), {"display_name": "Vee", "default_language": "fr"}
    )
    assert b"Select a valid choice" in response.content


@pytest.fixture
def active_model(org, ui_model_version, admin_user):
    do_activate_version(ui_model_version, org, admin_user)
    return ui_model_version


def generate_data(**overrides):
    data = {"content_type": "ad_headline", "num_candidates": 6, "preset": "safe"}
    data.update(overrides)
    return data


def test_generate_launches_a_job_with_the_presets_parameters(
    marketer, ui_campaign, active_model
):
    response = login(marketer).post(
        reverse("ui:generate", args=[ui_campaign.pk]),
        generate_data(temperature="0.5"),
    )
    job = GenerationJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ui:job_detail", args=[job.pk])
    assert job.total_candidates == 6
    assert job.created_by == marketer
    # The advanced override wins; the rest comes from the "safe" preset.
    assert job.params["temperature"] == 0.5
    assert job.params["top_p"] == 0.85
    assert job.params["repetition_penalty"] == 1.2
    assert job.params["max_new_tokens"] == 20  # 60 chars / 3 for a headline
    assert isinstance(job.params["seed"], int)


def test_generate_names_the_bad_parameter(marketer, ui_campaign, active_model):
    response = login(marketer).post(
        reverse("ui:generate", args=[ui_campaign.pk]), generate_data(top_p="1.5")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "top_p must be in (0, 1], got 1.5" in body
    # The advanced panel opens so the error is visible.
    assert '<details class="advanced" open>' in body
    assert not GenerationJob.objects.exists()


def test_generate_bounds_the_number_of_candidates(marketer, ui_campaign, active_model):
    response = login(marketer).post(
        reverse("ui:generate", args=[ui_campaign.pk]), generate_data(num_candidates=51)
    )
    assert b"less than or equal to 50" in response.content
    assert not GenerationJob.objects.exists()


def test_generate_without_an_active_model_says_so(marketer, ui_campaign):
    response = login(marketer).post(
        reverse("ui:generate", args=[ui_campaign.pk]), generate_data()
    )
    assert b"no model version is active" in response.content
    assert not GenerationJob.objects.exists()


def test_editor_cannot_launch_generation(editor, ui_campaign, active_model):
    client = login(editor)
    assert client.get(reverse("ui:generate", args=[ui_campaign.pk])).status_code == 403
    response = client.post(
        reverse("ui:generate", args=[ui_campaign.pk]), generate_data()
    )
    assert response.status_code == 403
    assert not GenerationJob.objects.exists()


def test_more_like_this_seeds_a_job_from_the_candidate(
    marketer, ui_campaign, make_review_job, active_model
):
    job = make_review_job(ui_campaign, 1, texts=["Glide through traffic silently"])
    candidate = job.candidates.get()
    response = login(marketer).post(reverse("ui:candidate_more", args=[candidate.pk]))
    new_job = GenerationJob.objects.exclude(pk=job.pk).get()
    assert response["Location"] == reverse("ui:job_detail", args=[new_job.pk])
    spec = new_job.variants[0]["spec"]
    assert spec["keywords"] == ["commute", "Glide", "through", "traffic", "silently"]
    assert new_job.content_type == candidate.content_type
    assert new_job.params["temperature"] == pytest.approx(0.9 * 0.85, abs=1e-3)
    assert new_job.params["seed"] != 7
