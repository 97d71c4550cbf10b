"""Serializers of brand voices and personas, bounded like the models."""

from rest_framework import serializers

from webapp.accounts.api_base import OrganizationScopedSerializer, StringListField
from webapp.brand.models import (
    AGE_MAX,
    AGE_MIN,
    BRAND_VOICE_LISTS,
    PERSONA_LISTS,
    BrandVoice,
    Persona,
)


class BrandVoiceSerializer(OrganizationScopedSerializer):
    tone_words = StringListField.from_limit(BRAND_VOICE_LISTS["tone_words"])
    required_phrases = StringListField.from_limit(BRAND_VOICE_LISTS["required_phrases"])
    banned_words = StringListField.from_limit(
        BRAND_VOICE_LISTS["banned_words"],
        help_text="Words or phrases a candidate must not contain.",
    )
    example_copy = StringListField.from_limit(
        BRAND_VOICE_LISTS["example_copy"],
        help_text="Approved copy in this voice, used to steer generation.",
    )
    languages = StringListField.from_limit(BRAND_VOICE_LISTS["languages"])
    allowed_domains = StringListField.from_limit(
        BRAND_VOICE_LISTS["allowed_domains"],
        help_text="Host names candidates may link to, e.g. example.com.",
    )

    class Meta:
        model = BrandVoice
        fields = [
            "id",
            "organization",
            "name",
            "description",
            "tone_words",
            "required_phrases",
            "banned_words",
            "example_copy",
            "languages",
            "allowed_domains",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # The (organization, name) rule is checked in validate() with a
        # field error instead of DRF's generic non-field message.
        validators: list = []
        extra_kwargs = {"description": {"max_length": 2000}}

    def validate(self, attrs):
        self.check_unique_name(attrs, BrandVoice)
        return attrs


class PersonaSerializer(OrganizationScopedSerializer):
    age_min = serializers.IntegerField(
        min_value=AGE_MIN, max_value=AGE_MAX, allow_null=True, required=False
    )
    age_max = serializers.IntegerField(
        min_value=AGE_MIN, max_value=AGE_MAX, allow_null=True, required=False
    )
    interests = StringListField.from_limit(PERSONA_LISTS["interests"])
    pain_points = StringListField.from_limit(PERSONA_LISTS["pain_points"])

    class Meta:
        model = Persona
        fields = [
            "id",
            "organization",
            "name",
            "description",
            "age_min",
            "age_max",
            "interests",
            "pain_points",
            "locale",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []
        extra_kwargs = {
            "description": {"max_length": 2000},
            "locale": {"help_text": "A language tag such as en-US or zh-CN."},
        }

    def validate(self, attrs):
        self.check_unique_name(attrs, Persona)
        age_min = attrs.get("age_min", getattr(self.instance, "age_min", None))
        age_max = attrs.get("age_max", getattr(self.instance, "age_max", None))
        if age_min is not None and age_max is not None and age_min > age_max:
            raise serializers.ValidationError(
                {
                    "age_max": [
                        f"age_max must be at least age_min ({age_min}), got {age_max}"
                    ]
                }
            )
        return attrs
