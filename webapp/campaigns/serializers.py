"""Serializer of campaigns, bounded like the model."""

from rest_framework import serializers

from webapp.accounts.api_base import (
    OrganizationScopedSerializer,
    ScopedPrimaryKeyRelatedField,
    StringListField,
)
from webapp.brand.models import BrandVoice, Persona
from webapp.campaigns.models import CAMPAIGN_LISTS, MAX_CAMPAIGN_PERSONAS, Campaign


class CampaignSerializer(OrganizationScopedSerializer):
    brand_voice = ScopedPrimaryKeyRelatedField(
        queryset=BrandVoice.objects.all(),
        allow_null=True,
        required=False,
        help_text="A brand voice of the same organization.",
    )
    personas = ScopedPrimaryKeyRelatedField(
        queryset=Persona.objects.all(),
        many=True,
        required=False,
        help_text=f"Ids of at most {MAX_CAMPAIGN_PERSONAS} personas of the same "
        "organization.",
    )
    key_facts = StringListField.from_limit(CAMPAIGN_LISTS["key_facts"])
    keywords = StringListField.from_limit(CAMPAIGN_LISTS["keywords"])
    channels = StringListField.from_limit(CAMPAIGN_LISTS["channels"])
    content_types = StringListField.from_limit(CAMPAIGN_LISTS["content_types"])
    owner = serializers.CharField(source="owner.username", read_only=True, default=None)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "organization",
            "name",
            "brand_voice",
            "product_name",
            "product_description",
            "key_facts",
            "keywords",
            "personas",
            "channels",
            "content_types",
            "language",
            "status",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"product_description": {"max_length": 4000}}

    def validate_personas(self, value):
        value = list(dict.fromkeys(value))
        if len(value) > MAX_CAMPAIGN_PERSONAS:
            raise serializers.ValidationError(
                f"at most {MAX_CAMPAIGN_PERSONAS} personas allowed, got {len(value)}"
            )
        return value

    def validate(self, attrs):
        self.check_same_organization(attrs, "brand_voice")
        self.check_same_organization(attrs, "personas")
        return attrs
