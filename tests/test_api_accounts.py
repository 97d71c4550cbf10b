"""Token auth, /me/, organizations and member management."""

import pytest
from rest_framework.test import APIClient

from tests.fixtures_accounts import PASSWORD, make_user
from webapp.accounts.models import Membership, Organization, Role
from webapp.accounts.services import do_add_member, do_create_organization

ORGS = "/api/v1/organizations/"


def test_token_round_trip(viewer, org):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": viewer.username, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200
    token = response.data["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.data["username"] == viewer.username
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/me/").status_code == 401


def test_token_with_wrong_password_is_400(viewer):
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": viewer.username, "password": "wrong"},
        format="json",
    )
    assert response.status_code == 400
    assert "token" not in response.data


def test_session_auth_works_for_the_browser(viewer, org):
    client = APIClient()
    assert client.login(username=viewer.username, password=PASSWORD)
    assert client.get("/api/v1/me/").status_code == 200


def test_me_shows_profile_and_memberships(viewer, org, other_org, api_client_for):
    do_add_member(other_org, viewer, Role.MARKETER)
    data = api_client_for(viewer).get("/api/v1/me/").data
    assert data["default_language"] == "en"
    roles = {m["organization"]["name"]: m["role"] for m in data["memberships"]}
    assert roles == {"Acme": "viewer", "Globex": "marketer"}


def test_me_patch_updates_profile(viewer, org, api_client_for):
    client = api_client_for(viewer)
    response = client.patch(
        "/api/v1/me/",
        {
            "display_name": "Vi",
            "default_language": "zh",
            "ui_preferences": {"theme": "dark", "cards_per_page": 24},
            "current_organization": org.pk,
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["display_name"] == "Vi"
    assert response.data["ui_preferences"] == {"theme": "dark", "cards_per_page": 24}
    assert response.data["current_organization"] == org.pk
    viewer.profile.refresh_from_db()
    assert viewer.profile.default_language == "zh"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": "x" * 81}, "display_name"),
        ({"default_language": "fr"}, "default_language"),
        ({"ui_preferences": {"theme": "neon"}}, "ui_preferences"),
        ({"ui_preferences": {"cards_per_page": 1000}}, "ui_preferences"),
        ({"ui_preferences": {"evil": True}}, "ui_preferences"),
        ({"ui_preferences": ["dark"]}, "ui_preferences"),
        ({"display_name": "ok", "default_language": "xx"}, "default_language"),
    ],
)
def test_me_patch_rejects_invalid_values_and_saves_nothing(
    viewer, org, api_client_for, body, field
):
    response = api_client_for(viewer).patch("/api/v1/me/", body, format="json")
    assert response.status_code == 400
    assert field in response.data
    data = api_client_for(viewer).get("/api/v1/me/").data
    assert data["display_name"] == ""
    assert data["ui_preferences"] == {}


def test_me_cannot_select_another_users_organization(
    viewer, org, other_org, api_client_for
):
    response = api_client_for(viewer).patch(
        "/api/v1/me/", {"current_organization": other_org.pk}, format="json"
    )
    assert response.status_code == 400
    assert "current_organization" in response.data


def test_organization_list_shows_only_mine_with_my_role(
    org, other_org, marketer, api_client_for
):
    data = api_client_for(marketer).get(ORGS).data
    assert [(o["name"], o["role"]) for o in data["results"]] == [("Acme", "marketer")]
    assert data["results"][0]["member_count"] == 2


def test_any_user_creates_an_organization_and_becomes_admin(api_client_for, db):
    user = make_user("founder")
    response = api_client_for(user).post(ORGS, {"name": " New Co "}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["name"] == "New Co"
    assert response.data["role"] == "admin"
    assert response.data["slug"] == "new-co"
    assert Membership.objects.get(user=user).role == Role.ADMIN


def test_organization_name_is_validated(api_client_for, db):
    user = make_user("founder")
    client = api_client_for(user)
    assert client.post(ORGS, {"name": ""}, format="json").status_code == 400
    response = client.post(ORGS, {"name": "n" * 121}, format="json")
    assert response.status_code == 400
    assert "name" in response.data
    assert not Organization.objects.exists()


@pytest.mark.parametrize("role_fixture", ["editor", "marketer", "viewer"])
def test_only_admins_update_or_delete_an_organization(
    request, role_fixture, org, api_client_for
):
    client = api_client_for(request.getfixturevalue(role_fixture))
    assert client.patch(f"{ORGS}{org.pk}/", {"name": "X"}).status_code == 403
    assert client.delete(f"{ORGS}{org.pk}/").status_code == 403
    org.refresh_from_db()
    assert org.name == "Acme"


def test_admin_renames_and_deletes_organization(org, admin_user, api_client_for):
    client = api_client_for(admin_user)
    response = client.patch(f"{ORGS}{org.pk}/", {"name": "Acme Inc"}, format="json")
    assert response.status_code == 200
    assert response.data["name"] == "Acme Inc"
    assert client.delete(f"{ORGS}{org.pk}/").status_code == 204
    assert not Organization.objects.filter(pk=org.pk).exists()


def test_members_listed_for_any_member(org, viewer, marketer, api_client_for):
    response = api_client_for(viewer).get(f"{ORGS}{org.pk}/members/")
    assert response.status_code == 200
    assert {(m["username"], m["role"]) for m in response.data["results"]} == {
        ("acme-admin", "admin"),
        ("acme-viewer", "viewer"),
        ("acme-marketer", "marketer"),
    }


def test_admin_adds_changes_and_removes_a_member(org, admin_user, api_client_for):
    newcomer = make_user("newcomer")
    client = api_client_for(admin_user)
    url = f"{ORGS}{org.pk}/members/"
    response = client.post(url, {"username": "newcomer", "role": "editor"})
    assert response.status_code == 201, response.data
    assert Membership.objects.get(user=newcomer, organization=org).role == "editor"
    response = client.post(url, {"username": "newcomer", "role": "viewer"})
    assert response.status_code == 400
    assert "already a member" in response.data["username"][0]
    response = client.patch(f"{url}newcomer/", {"role": "marketer"}, format="json")
    assert response.status_code == 200
    assert response.data["role"] == "marketer"
    assert client.delete(f"{url}newcomer/").status_code == 204
    assert not Membership.objects.filter(user=newcomer, organization=org).exists()


def test_adding_unknown_user_or_role_is_400(org, admin_user, api_client_for):
    url = f"{ORGS}{org.pk}/members/"
    client = api_client_for(admin_user)
    response = client.post(url, {"username": "nobody", "role": "editor"})
    assert response.status_code == 400
    assert "username" in response.data
    make_user("somebody")
    response = client.post(url, {"username": "somebody", "role": "owner"})
    assert response.status_code == 400
    assert "role" in response.data


@pytest.mark.parametrize("role_fixture", ["editor", "marketer", "viewer"])
def test_non_admins_cannot_manage_members(request, role_fixture, org, api_client_for):
    make_user("newcomer")
    client = api_client_for(request.getfixturevalue(role_fixture))
    url = f"{ORGS}{org.pk}/members/"
    assert (
        client.post(url, {"username": "newcomer", "role": "admin"}).status_code == 403
    )
    response = client.patch(f"{url}acme-admin/", {"role": "viewer"}, format="json")
    assert response.status_code == 403
    assert client.delete(f"{url}acme-admin/").status_code == 403
    assert org.memberships.filter(role=Role.ADMIN).count() == 1


def test_last_admin_cannot_be_demoted_or_removed(org, admin_user, api_client_for):
    client = api_client_for(admin_user)
    url = f"{ORGS}{org.pk}/members/{admin_user.username}/"
    response = client.patch(url, {"role": "viewer"}, format="json")
    assert response.status_code == 400
    assert "last admin" in str(response.data)
    assert client.delete(url).status_code == 400
    assert Membership.objects.get(user=admin_user, organization=org).role == "admin"


def test_admin_may_step_down_when_another_admin_exists(
    org, admin_user, editor, api_client_for
):
    client = api_client_for(admin_user)
    base = f"{ORGS}{org.pk}/members/"
    client.patch(f"{base}{editor.username}/", {"role": "admin"}, format="json")
    response = client.patch(
        f"{base}{admin_user.username}/", {"role": "viewer"}, format="json"
    )
    assert response.status_code == 200


def test_unknown_member_is_404(org, admin_user, api_client_for):
    response = api_client_for(admin_user).delete(f"{ORGS}{org.pk}/members/ghost/")
    assert response.status_code == 404


def test_organization_list_query_count_does_not_grow(
    db, api_client_for, django_assert_num_queries
):
    user = make_user("busy")
    client = api_client_for(user)
    for i in range(2):
        do_create_organization(f"Org {i}", owner=user)
    # 1 count, 2 the page with role and member count annotated.
    with django_assert_num_queries(2):
        assert client.get(ORGS).data["count"] == 2
    for i in range(2, 8):
        do_create_organization(f"Org {i}", owner=user)
    with django_assert_num_queries(2):
        assert client.get(ORGS).data["count"] == 8


def test_member_list_query_count_does_not_grow(
    org, admin_user, api_client_for, django_assert_num_queries
):
    client = api_client_for(admin_user)
    url = f"{ORGS}{org.pk}/members/"
    # 1 the organization, 2 count, 3 members with user and profile joined.
    with django_assert_num_queries(3):
        client.get(url)
    for i in range(5):
        do_add_member(org, make_user(f"m{i}"), Role.VIEWER)
    with django_assert_num_queries(3):
        assert client.get(url).data["count"] == 6
