"""API views: token, the signed-in user, organizations and their members."""

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Subquery
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.response import Response

from webapp.accounts import services
from webapp.accounts.api_base import OrganizationScopedViewSet, service_errors
from webapp.accounts.models import CAN_MANAGE, Membership, Organization, Role
from webapp.accounts.serializers import (
    MemberAddSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    MeSerializer,
    MeUpdateSerializer,
    OrganizationSerializer,
)


@extend_schema(
    tags=["auth"],
    request=AuthTokenSerializer,
    responses={
        200: inline_serializer("TokenResponse", {"token": serializers.CharField()})
    },
    auth=[],
    summary="Exchange a username and password for an API token",
)
class TokenView(ObtainAuthToken):
    """POST username+password, get ``{"token": ...}``; send it as ``Token <key>``."""

    # A browser session must not make this endpoint demand a CSRF token.
    authentication_classes = ()


token_view = TokenView.as_view()


@extend_schema_view(
    get=extend_schema(tags=["me"], responses=MeSerializer),
    patch=extend_schema(
        tags=["me"], request=MeUpdateSerializer, responses=MeSerializer
    ),
)
class MeView(generics.GenericAPIView):
    """The signed-in user, profile and memberships; PATCH edits the profile."""

    serializer_class = MeSerializer

    def get_object(self):
        profile = services.get_profile(self.request.user)
        # Two more queries in total: memberships with their organizations.
        memberships = Membership.objects.filter(user=self.request.user).select_related(
            "organization"
        )
        self.request.user._prefetched_objects_cache = {"memberships": memberships}
        profile.user = self.request.user
        return profile

    def get(self, request):
        return Response(MeSerializer(self.get_object()).data)

    def patch(self, request):
        serializer = MeUpdateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.do_update_profile(request.user, **serializer.validated_data)
        return Response(MeSerializer(self.get_object()).data)


me_view = MeView.as_view()

USERNAME_PARAMETER = OpenApiParameter(
    "username", OpenApiTypes.STR, OpenApiParameter.PATH, description="A member."
)


@extend_schema_view(
    list=extend_schema(tags=["organizations"]),
    retrieve=extend_schema(tags=["organizations"]),
    create=extend_schema(
        tags=["organizations"], description="Create one; you become its admin."
    ),
    update=extend_schema(tags=["organizations"], description="Admins only."),
    partial_update=extend_schema(tags=["organizations"], description="Admins only."),
    destroy=extend_schema(
        tags=["organizations"],
        description="Admins only. Deletes its brand voices, personas and campaigns.",
    ),
)
class OrganizationViewSet(OrganizationScopedViewSet):
    """Your organizations. Any user may create one; admins edit and delete."""

    serializer_class = OrganizationSerializer
    queryset = Organization.objects.all()
    organization_lookup = "pk"
    write_roles = CAN_MANAGE
    action_roles = {"create": None}
    filterset_fields: list[str] = []
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        # One query for the page: the caller's role and the member count are
        # annotated instead of looked up per organization.
        queryset = super().get_queryset()
        if not self.request.user.is_authenticated:
            return queryset
        my_role = Membership.objects.filter(
            organization=OuterRef("pk"), user=self.request.user
        ).values("role")[:1]
        return queryset.annotate(
            my_role=Subquery(my_role), member_count=Count("memberships", distinct=True)
        ).order_by("name", "pk")

    def perform_create(self, serializer):
        with service_errors():
            organization = services.do_create_organization(
                serializer.validated_data["name"], owner=self.request.user
            )
        serializer.instance = self.get_queryset().get(pk=organization.pk)

    def update_object(self, instance, data):
        services.do_update_organization(instance, **data)
        return self.get_queryset().get(pk=instance.pk)

    def delete_object(self, instance):
        services.do_delete_organization(instance)

    def _members(self, organization):
        return (
            Membership.objects.filter(organization=organization)
            .select_related("user", "user__profile")
            .order_by("user__username")
        )

    @extend_schema(
        tags=["organizations"],
        methods=["GET"],
        responses=MemberSerializer(many=True),
        summary="List the members",
    )
    @extend_schema(
        tags=["organizations"],
        methods=["POST"],
        request=MemberAddSerializer,
        responses={201: MemberSerializer},
        summary="Add a user by username with a role (admins only)",
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def members(self, request, pk=None):
        organization = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(self._members(organization))
            data = MemberSerializer(page, many=True).data
            return self.get_paginated_response(data)
        serializer = MemberAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["username"]
        if Membership.objects.filter(organization=organization, user=user).exists():
            raise serializers.ValidationError(
                {
                    "username": [
                        f"{user.username} is already a member; PATCH "
                        f"members/{user.username}/ to change the role"
                    ]
                }
            )
        with service_errors():
            membership = services.do_add_member(
                organization, user, Role(serializer.validated_data["role"])
            )
        membership = self._members(organization).get(pk=membership.pk)
        return Response(MemberSerializer(membership).data, status=201)

    @extend_schema(
        tags=["organizations"],
        methods=["PATCH"],
        parameters=[USERNAME_PARAMETER],
        request=MemberRoleSerializer,
        responses=MemberSerializer,
        summary="Change a member's role (admins only; one admin must remain)",
    )
    @extend_schema(
        tags=["organizations"],
        methods=["DELETE"],
        parameters=[USERNAME_PARAMETER],
        request=None,
        responses={204: None},
        summary="Remove a member (admins only; one admin must remain)",
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"members/(?P<username>[^/]+)",
        filter_backends=[],
        pagination_class=None,
    )
    def member(self, request, pk=None, username=None):
        organization = self.get_object()
        user = get_object_or_404(get_user_model(), username=username)
        membership = get_object_or_404(Membership, organization=organization, user=user)
        if request.method == "DELETE":
            with service_errors():
                services.do_remove_member(organization, user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.do_change_member_role(
                organization, user, Role(serializer.validated_data["role"])
            )
        membership = self._members(organization).get(pk=membership.pk)
        return Response(MemberSerializer(membership).data)
