"""Membership and role look-ups shared by the API, the UI, admin and tasks."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils.text import slugify

from webapp.accounts.models import Membership, Organization, Profile, Role


def organizations_for(user: AbstractBaseUser) -> QuerySet[Organization]:
    """Organizations the user belongs to; empty for anonymous users."""
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user)


def role_in(user: AbstractBaseUser, organization_id: int) -> Role | None:
    """The user's role in the organization, or None when not a member."""
    if not user.is_authenticated:
        return None
    role = (
        Membership.objects.filter(user=user, organization_id=organization_id)
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def roles_by_organization(user: AbstractBaseUser) -> dict[int, Role]:
    """All of the user's roles in one query, keyed by organization id."""
    if not user.is_authenticated:
        return {}
    rows = Membership.objects.filter(user=user).values_list("organization_id", "role")
    return {org_id: Role(role) for org_id, role in rows}


def get_profile(user: AbstractBaseUser) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def do_create_organization(
    name: str, owner: AbstractBaseUser, slug: str | None = None
) -> Organization:
    """Create an organization with its creator as admin."""
    base = slugify(slug or name)[:50] or "org"
    candidate, n = base, 1
    while Organization.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    organization = Organization.objects.create(name=name, slug=candidate)
    Membership.objects.create(user=owner, organization=organization, role=Role.ADMIN)
    return organization


def do_add_member(
    organization: Organization, user: AbstractBaseUser, role: Role
) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    return membership
