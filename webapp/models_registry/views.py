"""API of model versions: every member reads, admins activate for their org.

Shared versions (no organization) are visible to everyone signed in; an
organization's own versions (fine-tunes) only to its members, else 404.
"""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from webapp.accounts.api_base import (
    OrganizationField,
    StandardPagination,
    member_organization_ids,
    service_errors,
    user_roles,
)
from webapp.accounts.models import CAN_MANAGE
from webapp.models_registry import services
from webapp.models_registry.models import ModelActivation, ModelVersion


class ModelVersionSerializer(serializers.ModelSerializer):
    parent_name = serializers.CharField(source="parent.name", default=None)
    active_for = serializers.SerializerMethodField(
        help_text="Ids of your organizations that generate with this version."
    )
    is_global_default = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "organization",
            "preset",
            "metrics",
            "config",
            "parent",
            "parent_name",
            "status",
            "created_at",
            "active_for",
            "is_global_default",
        ]
        read_only_fields = fields

    def get_active_for(self, version) -> list[int]:
        active = self.context.get("active_by_org", {})
        return sorted(org for org, vid in active.items() if vid == version.pk)

    def get_is_global_default(self, version) -> bool:
        return self.context.get("global_default") == version.pk


class ActivateSerializer(serializers.Serializer):
    organization = OrganizationField(
        required=False,
        help_text="Your organization to activate it for; optional when you admin "
        "exactly one.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ActivationSerializer(serializers.ModelSerializer):
    activated_by = serializers.CharField(
        source="activated_by.username", default=None, read_only=True
    )

    class Meta:
        model = ModelActivation
        fields = [
            "id",
            "organization",
            "version",
            "activated_by",
            "activated_at",
            "note",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(tags=["models"]),
    retrieve=extend_schema(tags=["models"]),
)
class ModelVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Registered model versions you may generate with."""

    serializer_class = ModelVersionSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = StandardPagination
    filterset_fields = ["status", "preset", "organization"]
    search_fields = ["name"]
    ordering_fields = ["created_at", "name"]

    def get_queryset(self):
        user = self.request.user
        if getattr(self, "swagger_fake_view", False) or not user.is_authenticated:
            return ModelVersion.objects.none()
        return ModelVersion.objects.filter(
            Q(organization__isnull=True)
            | Q(organization__in=member_organization_ids(user))
        ).select_related("parent")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        request = self.request
        if request.user.is_authenticated:
            # One pair of small queries per organization of the user.
            context["active_by_org"] = {
                org_id: getattr(services.active_version_for_id(org_id), "pk", None)
                for org_id in user_roles(request)
            }
            default = services.active_version_for(None)
            context["global_default"] = default.pk if default else None
        return context

    @extend_schema(
        tags=["models"],
        request=ActivateSerializer,
        responses={201: ActivationSerializer},
        description="Make this version the one your organization generates with "
        "(admins only). The activation is logged, so it can be rolled back.",
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        version = self.get_object()
        payload = ActivateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        roles = user_roles(request)
        organization = payload.validated_data.get("organization")
        if organization is None:
            admin_of = [org for org, role in roles.items() if role in CAN_MANAGE]
            if len(admin_of) != 1:
                raise serializers.ValidationError(
                    {"organization": ["name the organization to activate it for"]}
                )
            from webapp.accounts.models import Organization

            organization = Organization.objects.get(pk=admin_of[0])
        if roles.get(organization.pk) not in CAN_MANAGE:
            raise PermissionDenied(
                f"activating a model needs the admin role in {organization.name}"
            )
        with service_errors():
            activation = services.do_activate_version(
                version,
                organization,
                request.user,
                note=payload.validated_data.get("note", ""),
            )
        return Response(ActivationSerializer(activation).data, status=201)
