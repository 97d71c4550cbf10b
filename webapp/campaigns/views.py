"""API viewset of campaigns.

Writable by admins, marketers and editors (``CAN_EDIT_CONTENT``); viewers
only read.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view

from webapp.accounts.api_base import (
    IdFilter,
    OrganizationFilterSet,
    OrganizationScopedViewSet,
    json_list_contains,
)
from webapp.accounts.models import CAN_EDIT_CONTENT
from webapp.campaigns import services
from webapp.campaigns.models import Campaign, Channel, ContentType
from webapp.campaigns.serializers import CampaignSerializer


class CampaignFilter(OrganizationFilterSet):
    brand_voice = IdFilter(field_name="brand_voice")
    persona = IdFilter(field_name="personas", help_text="Campaigns targeting it.")
    content_type = django_filters.ChoiceFilter(
        choices=ContentType.choices,
        method="filter_content_type",
        help_text="Campaigns whose content_types include it.",
    )
    channel = django_filters.ChoiceFilter(
        choices=Channel.choices,
        method="filter_channel",
        help_text="Campaigns whose channels include it.",
    )

    class Meta:
        model = Campaign
        fields = [
            "organization",
            "status",
            "language",
            "brand_voice",
            "persona",
            "content_type",
            "channel",
        ]

    def filter_content_type(self, queryset, name, value):
        return queryset.filter(json_list_contains("content_types", value))

    def filter_channel(self, queryset, name, value):
        return queryset.filter(json_list_contains("channels", value))


@extend_schema_view(
    list=extend_schema(tags=["campaigns"]),
    retrieve=extend_schema(tags=["campaigns"]),
    create=extend_schema(tags=["campaigns"], description="You become its owner."),
    update=extend_schema(tags=["campaigns"]),
    partial_update=extend_schema(tags=["campaigns"]),
    destroy=extend_schema(tags=["campaigns"]),
)
class CampaignViewSet(OrganizationScopedViewSet):
    """Campaigns of your organizations."""

    queryset = Campaign.objects.select_related("owner").prefetch_related("personas")
    serializer_class = CampaignSerializer
    write_roles = CAN_EDIT_CONTENT
    filterset_class = CampaignFilter
    search_fields = ["name", "product_name"]
    ordering_fields = ["name", "created_at", "updated_at", "status", "product_name"]

    def create_object(self, data):
        organization = data.pop("organization")
        return services.do_create_campaign(organization, self.request.user, **data)

    def update_object(self, instance, data):
        return services.do_update_campaign(instance, **data)

    def delete_object(self, instance):
        services.do_delete_campaign(instance)
