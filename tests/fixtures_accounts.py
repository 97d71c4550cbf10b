"""The usual cast: an organization with one member of each role, and an outsider."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from webapp.accounts.models import Role
from webapp.accounts.services import do_add_member, do_create_organization

PASSWORD = "correct-horse-battery-staple"


def make_user(username: str):
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.com"
    )


@pytest.fixture
def org(db):
    """Acme, owned by its admin."""
    admin = make_user("acme-admin")
    return do_create_organization("Acme", owner=admin)


@pytest.fixture
def admin_user(org):
    return org.memberships.get(role=Role.ADMIN).user


@pytest.fixture
def editor(org):
    user = make_user("acme-editor")
    do_add_member(org, user, Role.EDITOR)
    return user


@pytest.fixture
def marketer(org):
    user = make_user("acme-marketer")
    do_add_member(org, user, Role.MARKETER)
    return user


@pytest.fixture
def viewer(org):
    user = make_user("acme-viewer")
    do_add_member(org, user, Role.VIEWER)
    return user


@pytest.fixture
def other_org(db):
    """Globex, a second tenant whose data Acme's members must never see."""
    return do_create_organization("Globex", owner=make_user("globex-admin"))


@pytest.fixture
def outsider(other_org):
    return other_org.memberships.get(role=Role.ADMIN).user


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api_client_for():
    """api_client_for(user) gives an authenticated DRF test client."""
    return client_for
