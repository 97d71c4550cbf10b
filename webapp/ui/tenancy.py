"""Which organization a browser request works in, and what the user may do there.

The API takes ``?organization=``; the browser UI instead remembers the choice in
``Profile.current_organization``. Both follow the same rules: a user only sees
organizations they belong to, and another organization's object answers 404.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from webapp.accounts.models import (
    CAN_EDIT_CONTENT,
    CAN_LAUNCH,
    CAN_MANAGE,
    CAN_REVIEW,
    Membership,
    Organization,
    Profile,
    Role,
)


@dataclass
class Tenant:
    """The current organization of a request and the user's role in it."""

    profile: Profile | None
    organization: Organization | None
    role: Role | None
    memberships: list[Membership] = field(default_factory=list)

    @property
    def can_edit(self) -> bool:
        return self.role in CAN_EDIT_CONTENT

    @property
    def can_launch(self) -> bool:
        return self.role in CAN_LAUNCH

    @property
    def can_review(self) -> bool:
        return self.role in CAN_REVIEW

    @property
    def can_manage(self) -> bool:
        return self.role in CAN_MANAGE


def get_tenant(request: HttpRequest) -> Tenant:
    """Resolve (once per request) the organization the user is working in.

    Two queries: the profile with its current organization, and the user's
    memberships with their organizations (the switcher needs them anyway).
    A stale choice (membership removed) falls back to the first organization.
    """
    cached = getattr(request, "_copydesk_tenant", None)
    if cached is not None:
        return cached
    user = request.user
    if not user.is_authenticated:
        tenant = Tenant(profile=None, organization=None, role=None)
    else:
        profile = (
            Profile.objects.select_related("current_organization")
            .filter(user=user)
            .first()
        ) or Profile.objects.create(user=user)
        profile.user = user  # cached: the layout prints the profile's name
        memberships = list(
            Membership.objects.filter(user=user)
            .select_related("organization")
            .order_by("organization__name")
        )
        by_org = {m.organization_id: m for m in memberships}
        current = by_org.get(profile.current_organization_id)
        if current is None and memberships:
            current = memberships[0]
            profile.current_organization = current.organization
            profile.save(update_fields=["current_organization"])
        tenant = Tenant(
            profile=profile,
            organization=current.organization if current else None,
            role=Role(current.role) if current else None,
            memberships=memberships,
        )
    request._copydesk_tenant = tenant
    return tenant


def member_required(view: Callable) -> Callable:
    """Signed in and a member of some organization (else a page that says so)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        tenant = get_tenant(request)
        if tenant.organization is None:
            from django.shortcuts import render

            return render(request, "ui/no_organization.html", status=403)
        request.tenant = tenant
        return view(request, *args, **kwargs)

    return wrapper


def role_required(roles: Iterable[Role], methods: Iterable[str] | None = None):
    """Refuse (403) users whose role in the current organization is not in roles.

    With ``methods`` only those HTTP methods are guarded, so a page can be read
    by everyone while its POST is refused to read-only roles.
    """
    allowed = set(roles)
    guarded = {m.upper() for m in methods} if methods else None

    def decorator(view: Callable) -> Callable:
        @member_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if guarded is None or request.method in guarded:
                if request.tenant.role not in allowed:
                    raise PermissionDenied(
                        f"Your role ({request.tenant.role.label}) cannot do this "
                        "in this organization."
                    )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def get_for_org(queryset, organization: Organization, **lookup):
    """One object of the current organization; another tenant's object is 404."""
    obj = queryset.filter(organization=organization, **lookup).first()
    if obj is None:
        raise Http404("No such object in this organization.")
    return obj
