"""Campaign API: CRUD, filters, search, roles, validation and query counts."""

import pytest

from webapp.brand.services import do_create_brand_voice
from webapp.campaigns.models import Campaign
from webapp.campaigns.services import do_create_campaign

URL = "/api/v1/campaigns/"


def payload(org, **overrides):
    data = {
        "organization": org.pk,
        "name": "Summer sale",
        "product_name": "Acme Kettle",
        "product_description": "Boils water in 60 seconds.",
        "key_facts": ["1.7 litres", "auto shut-off"],
        "keywords": ["kettle", "fast"],
        "channels": ["search", "social"],
        "content_types": ["ad_headline", "ad_description"],
        "language": "en",
        "status": "draft",
    }
    data.update(overrides)
    return data


def test_marketer_creates_campaign_and_becomes_owner(
    org, marketer, voice, persona, api_client_for
):
    body = payload(org, brand_voice=voice.pk, personas=[persona.pk])
    response = api_client_for(marketer).post(URL, body, format="json")
    assert response.status_code == 201, response.data
    campaign = Campaign.objects.get(pk=response.data["id"])
    assert campaign.owner == marketer
    assert response.data["owner"] == marketer.username
    assert list(campaign.personas.all()) == [persona]
    assert response.data["personas"] == [persona.pk]
    assert campaign.brand_voice == voice


def test_campaign_lists_are_stripped_and_deduplicated(org, marketer, api_client_for):
    body = payload(org, keywords=["  kettle ", "Kettle", "fast"], channels=["email"])
    response = api_client_for(marketer).post(URL, body, format="json")
    assert response.status_code == 201, response.data
    assert response.data["keywords"] == ["kettle", "fast"]


@pytest.mark.parametrize("role_fixture", ["admin_user", "editor", "marketer"])
def test_content_roles_update_and_delete_campaign(
    request, role_fixture, campaign, api_client_for
):
    client = api_client_for(request.getfixturevalue(role_fixture))
    response = client.patch(f"{URL}{campaign.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 200, response.data
    campaign.refresh_from_db()
    assert campaign.status == "active"
    assert client.delete(f"{URL}{campaign.pk}/").status_code == 204
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_put_replaces_campaign(org, campaign, editor, api_client_for):
    body = payload(org, name="Renamed", personas=[], brand_voice=None)
    response = api_client_for(editor).put(f"{URL}{campaign.pk}/", body, format="json")
    assert response.status_code == 200, response.data
    campaign.refresh_from_db()
    assert campaign.name == "Renamed"
    assert campaign.brand_voice is None
    assert campaign.personas.count() == 0


def test_viewer_reads_but_cannot_write_campaigns(org, campaign, viewer, api_client_for):
    client = api_client_for(viewer)
    assert client.get(f"{URL}{campaign.pk}/").status_code == 200
    assert client.post(URL, payload(org), format="json").status_code == 403
    response = client.patch(f"{URL}{campaign.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert client.delete(f"{URL}{campaign.pk}/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Spring launch"


def test_viewer_in_one_org_cannot_create_there_while_marketer_elsewhere(
    org, other_org, viewer, api_client_for
):
    from webapp.accounts.models import Role
    from webapp.accounts.services import do_add_member

    do_add_member(other_org, viewer, Role.MARKETER)
    client = api_client_for(viewer)
    assert client.post(URL, payload(org), format="json").status_code == 403
    assert client.post(URL, payload(other_org), format="json").status_code == 201


def test_anonymous_request_is_refused(campaign):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code in (401, 403)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 161),
        ("product_name", "x" * 121),
        ("product_description", "x" * 4001),
        ("keywords", ["k"] * 0 + [f"kw{i}" for i in range(51)]),
        ("keywords", ["x" * 81]),
        ("keywords", ["ok", "   "]),
        ("keywords", "kettle, fast"),
        ("keywords", [1, 2]),
        ("key_facts", [f"fact {i}" for i in range(31)]),
        ("key_facts", ["x" * 301]),
        ("channels", ["billboard"]),
        ("content_types", ["haiku"]),
        ("language", "fr"),
        ("status", "deleted"),
        ("brand_voice", "abc"),
        ("personas", ["abc"]),
        ("organization", None),
    ],
)
def test_invalid_campaign_is_400_with_field_error_and_not_saved(
    org, marketer, api_client_for, field, value
):
    response = api_client_for(marketer).post(
        URL, payload(org, **{field: value}), format="json"
    )
    assert response.status_code == 400
    assert field in response.data, response.data
    assert not Campaign.objects.exists()


def test_error_message_names_item_and_bound(org, marketer, api_client_for):
    response = api_client_for(marketer).post(
        URL, payload(org, keywords=["ok", "x" * 81]), format="json"
    )
    assert response.data["keywords"] == [
        "keywords[1] is 81 characters long; at most 80 allowed"
    ]


def test_update_with_invalid_list_changes_nothing(campaign, marketer, api_client_for):
    response = api_client_for(marketer).patch(
        f"{URL}{campaign.pk}/",
        {"name": "New name", "content_types": ["ad_headline", "sonnet"]},
        format="json",
    )
    assert response.status_code == 400
    assert "content_types" in response.data
    campaign.refresh_from_db()
    assert campaign.name == "Spring launch"


def test_organization_cannot_change_on_update(
    campaign, other_org, admin_user, api_client_for
):
    from webapp.accounts.models import Role
    from webapp.accounts.services import do_add_member

    do_add_member(other_org, admin_user, Role.ADMIN)
    response = api_client_for(admin_user).patch(
        f"{URL}{campaign.pk}/", {"organization": other_org.pk}, format="json"
    )
    assert response.status_code == 400
    assert "organization" in response.data
    campaign.refresh_from_db()
    assert campaign.organization_id != other_org.pk


def test_brand_voice_of_own_other_org_is_400(
    org, other_org, other_voice, other_persona, admin_user, api_client_for
):
    """A member of both orgs still may not mix their objects in one campaign."""
    from webapp.accounts.models import Role
    from webapp.accounts.services import do_add_member

    do_add_member(other_org, admin_user, Role.VIEWER)
    client = api_client_for(admin_user)
    response = client.post(URL, payload(org, brand_voice=other_voice.pk), format="json")
    assert response.status_code == 400
    assert "brand_voice" in response.data
    response = client.post(
        URL, payload(org, personas=[other_persona.pk]), format="json"
    )
    assert response.status_code == 400
    assert "personas" in response.data
    assert not Campaign.objects.filter(organization=org).exists()


@pytest.fixture
def filter_set(org, voice, persona, admin_user):
    """Four campaigns that differ in one property each."""
    zh_voice = do_create_brand_voice(org, name="Acme 中文", languages=["zh"])
    return {
        "en_headline": do_create_campaign(
            org,
            admin_user,
            name="Kettle headlines",
            product_name="Kettle",
            content_types=["ad_headline"],
            channels=["search"],
            brand_voice=voice,
            personas=[persona],
            status="active",
        ),
        "zh_slogan": do_create_campaign(
            org,
            admin_user,
            name="水壶 标语",
            product_name="水壶",
            content_types=["slogan"],
            channels=["social"],
            language="zh",
            brand_voice=zh_voice,
            status="draft",
        ),
        "email": do_create_campaign(
            org,
            admin_user,
            name="Newsletter",
            product_name="Toaster",
            content_types=["email_subject", "slogan"],
            channels=["email"],
            status="paused",
        ),
        "archived": do_create_campaign(
            org,
            admin_user,
            name="Old promo",
            product_name="Kettle classic",
            content_types=["video_script"],
            status="archived",
        ),
    }


def names(response):
    assert response.status_code == 200, response.data
    return sorted(item["name"] for item in response.data["results"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=active", ["Kettle headlines"]),
        ("language=zh", ["水壶 标语"]),
        ("content_type=slogan", ["Newsletter", "水壶 标语"]),
        ("content_type=ad_headline", ["Kettle headlines"]),
        ("channel=email", ["Newsletter"]),
        ("search=kettle", ["Kettle headlines", "Old promo"]),
        ("search=水壶", ["水壶 标语"]),
        ("status=archived&search=kettle", ["Old promo"]),
    ],
)
def test_campaign_filters_and_search(
    filter_set, viewer, api_client_for, query, expected
):
    assert names(api_client_for(viewer).get(f"{URL}?{query}")) == expected


def test_filter_by_brand_voice_and_persona(
    filter_set, voice, persona, viewer, api_client_for
):
    client = api_client_for(viewer)
    assert names(client.get(f"{URL}?brand_voice={voice.pk}")) == ["Kettle headlines"]
    assert names(client.get(f"{URL}?persona={persona.pk}")) == ["Kettle headlines"]


def test_invalid_filter_value_is_400(filter_set, viewer, api_client_for):
    client = api_client_for(viewer)
    assert client.get(f"{URL}?status=nope").status_code == 400
    assert client.get(f"{URL}?content_type=haiku").status_code == 400
    assert client.get(f"{URL}?organization=abc").status_code == 400


def test_ordering_and_pagination(filter_set, viewer, api_client_for):
    client = api_client_for(viewer)
    response = client.get(f"{URL}?ordering=name&page_size=2")
    assert response.data["count"] == 4
    assert [c["name"] for c in response.data["results"]] == [
        "Kettle headlines",
        "Newsletter",
    ]
    response = client.get(f"{URL}?ordering=name&page_size=2&page=2")
    assert [c["name"] for c in response.data["results"]] == ["Old promo", "水壶 标语"]


def test_campaign_list_query_count_does_not_grow(
    org, voice, persona, admin_user, viewer, api_client_for, django_assert_num_queries
):
    client = api_client_for(viewer)
    for i in range(3):
        do_create_campaign(
            org, admin_user, name=f"c{i}", product_name="p", personas=[persona]
        )
    # 1 count, 2 campaign page with owner joined, 3 personas prefetch.
    with django_assert_num_queries(3):
        assert client.get(URL).data["count"] == 3
    for i in range(3, 10):
        do_create_campaign(
            org, admin_user, name=f"c{i}", product_name="p", personas=[persona]
        )
    with django_assert_num_queries(3):
        assert client.get(URL).data["count"] == 10
