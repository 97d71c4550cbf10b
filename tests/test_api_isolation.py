"""Tenant isolation: another organization's objects answer 404 on every endpoint.

Acme's admin (the strongest role there) probes Globex's objects; a list never
contains them, a detail/update/delete answers 404 (never 403, never data), and
a payload that points at them is a 400 field error that reads the same as for an
id that does not exist.
"""

import pytest

from webapp.brand.models import BrandVoice, Persona
from webapp.campaigns.models import Campaign

ENDPOINTS = {
    "campaigns": ("/api/v1/campaigns/", "other_campaign", {"name": "hacked"}),
    "brand-voices": ("/api/v1/brand-voices/", "other_voice", {"name": "hacked"}),
    "personas": ("/api/v1/personas/", "other_persona", {"name": "hacked"}),
    "organizations": ("/api/v1/organizations/", "other_org", {"name": "hacked"}),
}


@pytest.fixture
def acme_client(admin_user, campaign, api_client_for):
    return api_client_for(admin_user)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_other_org_objects_are_not_listed(request, endpoint, acme_client):
    url, fixture, _ = ENDPOINTS[endpoint]
    foreign = request.getfixturevalue(fixture)
    response = acme_client.get(url)
    assert response.status_code == 200
    ids = [item["id"] for item in response.data["results"]]
    assert ids and foreign.pk not in ids


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_org_object_is_404(request, endpoint, method, acme_client):
    url, fixture, body = ENDPOINTS[endpoint]
    foreign = request.getfixturevalue(fixture)
    response = getattr(acme_client, method)(f"{url}{foreign.pk}/", body, format="json")
    assert response.status_code == 404
    assert "hacked" not in str(response.data)
    foreign.refresh_from_db()
    assert foreign.name != "hacked"


@pytest.mark.parametrize("method", ["get", "post"])
def test_other_org_members_are_404(method, other_org, acme_client):
    response = getattr(acme_client, method)(
        f"/api/v1/organizations/{other_org.pk}/members/",
        {"username": "acme-admin", "role": "admin"},
        format="json",
    )
    assert response.status_code == 404
    assert not other_org.memberships.filter(user__username="acme-admin").exists()


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_other_org_member_detail_is_404(method, other_org, outsider, acme_client):
    response = getattr(acme_client, method)(
        f"/api/v1/organizations/{other_org.pk}/members/{outsider.username}/",
        {"role": "viewer"},
        format="json",
    )
    assert response.status_code == 404
    assert other_org.memberships.get(user=outsider).role == "admin"


@pytest.mark.parametrize(
    ("url", "model"),
    [
        ("/api/v1/campaigns/", Campaign),
        ("/api/v1/brand-voices/", BrandVoice),
        ("/api/v1/personas/", Persona),
    ],
)
def test_creating_in_other_org_is_400_like_a_missing_org(
    url, model, other_org, acme_client
):
    before = model.objects.count()
    body = {"name": "Sneaky", "product_name": "x"}
    foreign = acme_client.post(
        url, {**body, "organization": other_org.pk}, format="json"
    )
    missing = acme_client.post(url, {**body, "organization": 999999}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert str(foreign.data["organization"][0]).replace(str(other_org.pk), "N") == str(
        missing.data["organization"][0]
    ).replace("999999", "N")
    assert model.objects.count() == before


def test_campaign_referencing_other_org_objects_is_400(
    org, other_voice, other_persona, acme_client
):
    body = {"organization": org.pk, "name": "Mixed", "product_name": "x"}
    response = acme_client.post(
        "/api/v1/campaigns/", {**body, "brand_voice": other_voice.pk}, format="json"
    )
    assert response.status_code == 400
    assert "brand_voice" in response.data
    assert "Globex" not in str(response.data)
    response = acme_client.post(
        "/api/v1/campaigns/", {**body, "personas": [other_persona.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "personas" in response.data
    assert not Campaign.objects.filter(name="Mixed").exists()


def test_updating_campaign_to_other_org_voice_is_400(
    campaign, other_voice, acme_client
):
    response = acme_client.patch(
        f"/api/v1/campaigns/{campaign.pk}/",
        {"brand_voice": other_voice.pk},
        format="json",
    )
    assert response.status_code == 400
    campaign.refresh_from_db()
    assert campaign.brand_voice_id != other_voice.pk


@pytest.mark.parametrize(
    "url", ["/api/v1/campaigns/", "/api/v1/brand-voices/", "/api/v1/personas/"]
)
def test_organization_filter_on_other_org_is_empty(url, other_org, acme_client):
    response = acme_client.get(f"{url}?organization={other_org.pk}")
    assert response.status_code == 200
    assert response.data["count"] == 0


def test_organization_filter_selects_one_of_my_orgs(
    org, other_org, other_campaign, admin_user, campaign, acme_client
):
    from webapp.accounts.models import Role
    from webapp.accounts.services import do_add_member

    do_add_member(other_org, admin_user, Role.VIEWER)
    all_ids = {c["id"] for c in acme_client.get("/api/v1/campaigns/").data["results"]}
    assert all_ids == {campaign.pk, other_campaign.pk}
    only = acme_client.get(f"/api/v1/campaigns/?organization={org.pk}").data
    assert [c["id"] for c in only["results"]] == [campaign.pk]


def test_user_without_organizations_sees_nothing(
    campaign, other_campaign, api_client_for
):
    from tests.fixtures_accounts import make_user

    client = api_client_for(make_user("loner"))
    for url in ENDPOINTS.values():
        assert client.get(url[0]).data["count"] == 0
    assert client.get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 404
