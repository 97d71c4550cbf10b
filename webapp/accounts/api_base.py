"""Tenancy and role rules of the API, shared by every app's viewsets.

A viewset built on ``OrganizationScopedViewSet`` gets:

- a queryset limited to the organizations the user belongs to, so another
  organization's object answers 404 (never 403, never data);
- ``OrganizationRolePermission``: reads need membership (the scoped queryset
  enforces it), writes need a role in ``write_roles`` (per action overrides in
  ``action_roles``), else 403;
- on create, the target ``organization`` must be one of the user's (else a 400
  field error that reads the same whether or not the organization exists), and
  the user's role there must allow the write (else 403);
- ``?organization=<id>`` filtering through ``OrganizationFilterSet``;
- Django ``ValidationError`` from the ``do_*`` services turned into 400s.

Subclasses implement ``create_object``, ``update_object`` and ``delete_object``
by calling their app's services, so the API writes what the UI and admin write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Model, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from webapp.accounts.models import CAN_EDIT_CONTENT, Membership, Organization, Role
from webapp.accounts.services import roles_by_organization
from webapp.accounts.validation import ListLimit, clean_string_list

# ---------------------------------------------------------------- helpers


def member_organization_ids(user) -> QuerySet:
    """A subquery of the user's organization ids (no query of its own)."""
    return Membership.objects.filter(user=user).values("organization_id")


def user_roles(request: Request) -> dict[int, Role]:
    """The user's roles by organization id, fetched once per request."""
    roles = getattr(request, "_copydesk_roles", None)
    if roles is None:
        roles = roles_by_organization(request.user)
        request._copydesk_roles = roles
    return roles


def json_list_contains(field: str, value: str) -> Q:
    """``Q`` matching rows whose JSON list ``field`` contains the string ``value``.

    PostgreSQL uses the ``@>`` operator. SQLite has no JSON containment, so the
    quoted value is matched in the JSON text; callers pass only enum values
    (no quotes or wildcards), for which both give the same answer.
    """
    if connection.features.supports_json_field_contains:
        return Q(**{f"{field}__contains": [value]})
    return Q(**{f"{field}__icontains": f'"{value}"'})


@contextmanager
def service_errors() -> Iterator[None]:
    """Turn a service's Django ``ValidationError`` into a DRF 400 response."""
    try:
        yield
    except DjangoValidationError as exc:
        raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc


# ---------------------------------------------------------------- fields


class StringListField(serializers.ListField):
    """A bounded list of short strings: stripped, de-duplicated, none empty.

    The checks are ``webapp.accounts.validation.clean_string_list``, the same
    function the models' ``clean()`` and the browser forms use; the child field
    is there so the OpenAPI schema shows the item type, length and enum.
    """

    def __init__(
        self,
        *,
        max_items: int,
        max_length: int,
        choices: Iterable | None = None,
        min_items: int = 0,
        **kwargs,
    ) -> None:
        self.limit = ListLimit(
            max_items=max_items,
            max_length=max_length,
            choices=tuple(choices) if choices is not None else None,
            min_items=min_items,
        )
        if self.limit.choices is not None:
            child = serializers.ChoiceField(choices=self.limit.choices)
        else:
            child = serializers.CharField(max_length=max_length)
        kwargs.setdefault("required", False)
        super().__init__(
            child=child,
            max_length=max_items,
            min_length=min_items or None,
            **kwargs,
        )

    @classmethod
    def from_limit(cls, limit: ListLimit, **kwargs) -> StringListField:
        return cls(
            max_items=limit.max_items,
            max_length=limit.max_length,
            choices=limit.choices,
            min_items=limit.min_items,
            **kwargs,
        )

    def to_internal_value(self, data):
        if isinstance(data, str | dict):
            self.fail("not_a_list", input_type=type(data).__name__)
        try:
            return clean_string_list(
                data,
                name=self.field_name or "list",
                max_items=self.limit.max_items,
                max_length=self.limit.max_length,
                choices=self.limit.choices,
                min_items=self.limit.min_items,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference to an object of one of the user's organizations.

    Another organization's id gets the same message as an id that does not
    exist, so a payload cannot probe other tenants.
    """

    default_error_messages = {
        "does_not_exist": "no {model} with id {pk_value} in your organizations",
        "incorrect_type": "expected an integer id, got {data_type}",
    }

    def __init__(self, *, organization_lookup: str = "organization", **kwargs):
        self.organization_lookup = organization_lookup
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return queryset.none()
        return queryset.filter(
            **{f"{self.organization_lookup}__in": member_organization_ids(request.user)}
        )

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            return self.get_queryset().get(pk=data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        except self.get_queryset().model.DoesNotExist:
            model = self.get_queryset().model._meta.verbose_name
            self.fail("does_not_exist", model=model, pk_value=data)


class OrganizationField(ScopedPrimaryKeyRelatedField):
    """The organization an object belongs to: one of the user's."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Organization.objects.all())
        kwargs.setdefault(
            "help_text", "Id of one of your organizations; fixed after creation."
        )
        super().__init__(organization_lookup="pk", **kwargs)


class OrganizationScopedSerializer(serializers.ModelSerializer):
    """Base serializer with a writable-once ``organization``."""

    organization = OrganizationField()

    def validate_organization(self, value: Organization) -> Organization:
        if self.instance is not None and value.pk != self.instance.organization_id:
            raise serializers.ValidationError(
                "organization cannot be changed; create the object in the other "
                "organization instead"
            )
        return value

    def target_organization(self, attrs: dict) -> Organization:
        """The organization the validated object will belong to."""
        if "organization" in attrs:
            return attrs["organization"]
        return self.instance.organization

    def check_same_organization(self, attrs: dict, field: str) -> None:
        """Refuse references (FK or list of objects) to another organization."""
        if field not in attrs or attrs[field] is None:
            return
        organization = self.target_organization(attrs)
        value = attrs[field]
        objects = value if isinstance(value, list | tuple) else [value]
        foreign = [obj for obj in objects if obj.organization_id != organization.pk]
        if foreign:
            names = ", ".join(str(obj.pk) for obj in foreign)
            raise serializers.ValidationError(
                {field: [f"must belong to organization {organization.pk}; got {names}"]}
            )

    def check_unique_name(self, attrs: dict, model: type[Model]) -> None:
        """A friendly field error for the (organization, name) constraint."""
        if "name" not in attrs:
            return
        organization = self.target_organization(attrs)
        clash = model.objects.filter(organization=organization, name=attrs["name"])
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            noun = model._meta.verbose_name
            raise serializers.ValidationError(
                {
                    "name": [
                        f"a {noun} named {attrs['name']!r} already exists in "
                        f"{organization.name}; choose another name"
                    ]
                }
            )


# ---------------------------------------------------------------- filters


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.Filter):
    """Filter on an integer id; a non-integer answers 400."""

    field_class = forms.IntegerField


class OrganizationFilterSet(django_filters.FilterSet):
    """Adds ``?organization=<id>``; ids outside the user's orgs match nothing."""

    organization = IdFilter(
        field_name="organization", help_text="Only objects of this organization."
    )


# ---------------------------------------------------------------- permissions


class OrganizationRolePermission(permissions.BasePermission):
    """Reads need membership, writes need a role the view allows.

    Membership for reads is enforced by the scoped queryset (non-members get
    404). For writes the view's ``get_write_roles()`` names the allowed roles;
    ``None`` means the action needs no role (e.g. creating an organization).
    """

    def has_permission(self, request: Request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        roles = view.get_write_roles()
        if roles is None:
            return True
        if view.action == "create":
            # No organization where the user may write: refuse before
            # validating, so a viewer learns nothing from field errors.
            if not any(role in roles for role in user_roles(request).values()):
                self.message = (
                    "your role does not allow this; it needs one of "
                    + ", ".join(sorted(roles))
                )
                return False
        return True

    def has_object_permission(self, request: Request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        roles = view.get_write_roles()
        if roles is None:
            return True
        role = user_roles(request).get(view.organization_id_of(obj))
        if role in roles:
            return True
        self.message = (
            f"your role ({role}) does not allow this; it needs one of "
            + ", ".join(sorted(roles))
        )
        return False


# ---------------------------------------------------------------- viewsets


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


class OrganizationScopedViewSet(viewsets.ModelViewSet):
    """A model viewset limited to the user's organizations (see module doc)."""

    #: Lookup from the model to its organization, e.g. "campaign__organization".
    organization_lookup = "organization"
    #: Roles that may write; ``action_roles`` overrides it per action.
    write_roles: frozenset[str] | set[str] | None = CAN_EDIT_CONTENT
    action_roles: dict[str, frozenset[str] | set[str] | None] = {}
    permission_classes = [permissions.IsAuthenticated, OrganizationRolePermission]
    pagination_class = StandardPagination

    def get_write_roles(self):
        return self.action_roles.get(self.action, self.write_roles)

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        user = self.request.user
        if getattr(self, "swagger_fake_view", False) or not user.is_authenticated:
            return queryset.none()
        return queryset.filter(
            **{f"{self.organization_lookup}__in": member_organization_ids(user)}
        )

    def organization_id_of(self, obj) -> int:
        """Follow ``organization_lookup`` from ``obj`` to its organization id."""
        *path, last = self.organization_lookup.split("__")
        for attribute in path:
            obj = getattr(obj, attribute)
        return obj.pk if last == "pk" else getattr(obj, f"{last}_id")

    def check_organization_role(self, organization: Organization) -> None:
        """403 unless the user's role in ``organization`` allows this action."""
        roles = self.get_write_roles()
        if roles is None:
            return
        role = user_roles(self.request).get(organization.pk)
        if role not in roles:
            raise PermissionDenied(
                f"your role in {organization.name} ({role}) does not allow this; "
                "it needs one of " + ", ".join(sorted(roles))
            )

    # Writes go through the app's services; subclasses fill these in.
    def create_object(self, data: dict):
        raise NotImplementedError

    def update_object(self, instance, data: dict):
        raise NotImplementedError

    def delete_object(self, instance) -> None:
        raise NotImplementedError

    def perform_create(self, serializer) -> None:
        self.check_organization_role(serializer.validated_data["organization"])
        with service_errors():
            serializer.instance = self.create_object(dict(serializer.validated_data))

    def perform_update(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("organization", None)
        with service_errors():
            serializer.instance = self.update_object(serializer.instance, data)

    def perform_destroy(self, instance) -> None:
        with service_errors():
            self.delete_object(instance)
