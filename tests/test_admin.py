"""The Django admin lists, searches and validates every domain model."""

import pytest
from django.test import Client

from webapp.brand.models import BrandVoice
from webapp.campaigns.models import Campaign


@pytest.fixture
def admin_client_(db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "accounts/organization",
        "accounts/membership",
        "accounts/profile",
        "auth/user",
        "brand/brandvoice",
        "brand/persona",
        "campaigns/campaign",
    ],
)
def test_admin_changelist_search_and_add_pages_render(
    path, admin_client_, campaign, viewer
):
    assert admin_client_.get(f"/admin/{path}/").status_code == 200
    assert admin_client_.get(f"/admin/{path}/?q=acme").status_code == 200
    assert admin_client_.get(f"/admin/{path}/add/").status_code == 200


def test_admin_change_pages_render(admin_client_, campaign, org, viewer):
    for url in [
        f"/admin/campaigns/campaign/{campaign.pk}/change/",
        f"/admin/brand/brandvoice/{campaign.brand_voice_id}/change/",
        f"/admin/accounts/organization/{org.pk}/change/",
        f"/admin/auth/user/{viewer.pk}/change/",
    ]:
        assert admin_client_.get(url).status_code == 200, url


def test_admin_campaign_filters(admin_client_, campaign):
    response = admin_client_.get("/admin/campaigns/campaign/?status__exact=draft")
    assert response.status_code == 200
    assert campaign.name in response.content.decode()
    response = admin_client_.get("/admin/campaigns/campaign/?status__exact=active")
    assert campaign.name not in response.content.decode()


def test_admin_brand_voice_form_uses_model_validation(admin_client_, org):
    response = admin_client_.post(
        "/admin/brand/brandvoice/add/",
        {
            "organization": org.pk,
            "name": "Too long words",
            "description": "",
            "tone_words": '["ok", "' + "x" * 41 + '"]',
            "required_phrases": "[]",
            "banned_words": "[]",
            "example_copy": "[]",
            "languages": '["en"]',
            "allowed_domains": "[]",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "at most 40 allowed" in response.content.decode()
    assert not BrandVoice.objects.exists()


def test_admin_brand_voice_form_normalises_lists(admin_client_, org):
    response = admin_client_.post(
        "/admin/brand/brandvoice/add/",
        {
            "organization": org.pk,
            "name": "Tidy",
            "description": "",
            "tone_words": '[" warm ", "Warm", "calm"]',
            "required_phrases": "[]",
            "banned_words": "[]",
            "example_copy": "[]",
            "languages": '["en"]',
            "allowed_domains": "[]",
        },
    )
    assert response.status_code == 302
    assert BrandVoice.objects.get().tone_words == ["warm", "calm"]


def test_admin_campaign_refuses_persona_of_another_org(
    admin_client_, org, campaign, other_persona
):
    response = admin_client_.post(
        f"/admin/campaigns/campaign/{campaign.pk}/change/",
        {
            "organization": org.pk,
            "name": campaign.name,
            "product_name": campaign.product_name,
            "product_description": "",
            "key_facts": "[]",
            "keywords": "[]",
            "personas": [other_persona.pk],
            "channels": "[]",
            "content_types": '["slogan"]',
            "language": "en",
            "status": "draft",
        },
    )
    assert response.status_code == 200
    assert "must belong to the campaign" in response.content.decode()
    assert list(Campaign.objects.get(pk=campaign.pk).personas.all()) != [other_persona]
