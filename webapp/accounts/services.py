"""Membership and role look-ups shared by the API, the UI, admin and tasks."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.text import slugify

from webapp.accounts.models import Membership, Organization, Profile, Role
from webapp.accounts.validation import clean_ui_preferences


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


@transaction.atomic
def do_add_member(
    organization: Organization, user: AbstractBaseUser, role: Role
) -> Membership:
    """Add a member, or set the role of an existing one (keeping an admin)."""
    existing = (
        Membership.objects.select_for_update()
        .filter(organization=organization, user=user)
        .first()
    )
    if existing is not None:
        if existing.role == Role.ADMIN and role != Role.ADMIN:
            _ensure_other_admin(organization, user)
        existing.role = role
        existing.save(update_fields=["role"])
        return existing
    return Membership.objects.create(organization=organization, user=user, role=role)


class LastAdminError(ValidationError):
    """Raised when a change would leave an organization without an admin."""


def _ensure_other_admin(organization: Organization, user: AbstractBaseUser) -> None:
    """Refuse to demote or remove the organization's last admin.

    The admin rows are locked first (on PostgreSQL) so two admins demoting each
    other at the same time cannot both succeed.
    """
    admins = list(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Role.ADMIN)
        .values_list("user_id", flat=True)
    )
    if admins == [user.pk]:
        raise LastAdminError(
            f"{user.get_username()} is the last admin of {organization.name}; "
            "make another member admin first",
            code="last_admin",
        )


@transaction.atomic
def do_change_member_role(
    organization: Organization, user: AbstractBaseUser, role: Role
) -> Membership:
    """Change an existing member's role, keeping at least one admin."""
    membership = Membership.objects.select_for_update().get(
        organization=organization, user=user
    )
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        _ensure_other_admin(organization, user)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def do_remove_member(organization: Organization, user: AbstractBaseUser) -> None:
    """Remove a member, keeping at least one admin."""
    membership = Membership.objects.select_for_update().get(
        organization=organization, user=user
    )
    if membership.role == Role.ADMIN:
        _ensure_other_admin(organization, user)
    membership.delete()
    Profile.objects.filter(user=user, current_organization=organization).update(
        current_organization=None
    )


@transaction.atomic
def do_update_organization(organization: Organization, **fields) -> Organization:
    """Rename an organization or change its slug (validated like the admin)."""
    for name, value in fields.items():
        if name not in {"name", "slug"}:
            raise TypeError(f"organization field {name!r} cannot be updated")
        setattr(organization, name, value)
    organization.full_clean()
    organization.save()
    return organization


@transaction.atomic
def do_delete_organization(organization: Organization) -> None:
    """Delete an organization with everything it owns (cascades)."""
    organization.delete()


@transaction.atomic
def do_update_profile(user: AbstractBaseUser, **fields) -> Profile:
    """Update the user's profile; values are validated by ``full_clean``."""
    profile = get_profile(user)
    allowed = {"display_name", "default_language", "ui_preferences"}
    for name, value in fields.items():
        if name == "current_organization":
            if (
                value is not None
                and not organizations_for(user).filter(pk=value.pk).exists()
            ):
                raise ValidationError(
                    {"current_organization": "you are not a member of it"}
                )
        elif name not in allowed:
            raise TypeError(f"profile field {name!r} cannot be updated")
        setattr(profile, name, value)
    if "ui_preferences" in fields:
        try:
            profile.ui_preferences = clean_ui_preferences(profile.ui_preferences)
        except ValidationError as exc:
            raise ValidationError({"ui_preferences": exc.messages}) from None
    profile.full_clean()
    profile.save()
    return profile
