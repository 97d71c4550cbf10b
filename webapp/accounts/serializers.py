"""Serializers of users, profiles, organizations and memberships."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.accounts.api_base import ScopedPrimaryKeyRelatedField
from webapp.accounts.models import Language, Membership, Organization, Role
from webapp.accounts.validation import clean_ui_preferences


class OrganizationSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug"]


class MyMembershipSerializer(serializers.ModelSerializer):
    organization = OrganizationSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["organization", "role", "created_at"]


class MeSerializer(serializers.Serializer):
    """The signed-in user with profile and memberships (read only)."""

    id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    email = serializers.EmailField(source="user.email")
    display_name = serializers.CharField()
    default_language = serializers.ChoiceField(choices=Language.choices)
    ui_preferences = serializers.DictField()
    current_organization = serializers.IntegerField(
        source="current_organization_id", allow_null=True
    )
    memberships = MyMembershipSerializer(source="user.memberships", many=True)


@extend_schema_field(
    {
        "type": "object",
        "description": "Known keys: theme (light|dark|system), density "
        "(comfortable|compact), cards_per_page (1..100), show_token_counts and "
        "show_scores (booleans).",
        "additionalProperties": False,
        "properties": {
            "theme": {"type": "string", "enum": ["light", "dark", "system"]},
            "density": {"type": "string", "enum": ["comfortable", "compact"]},
            "cards_per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "show_token_counts": {"type": "boolean"},
            "show_scores": {"type": "boolean"},
        },
    }
)
class UIPreferencesField(serializers.JSONField):
    def to_internal_value(self, data):
        try:
            return clean_ui_preferences(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class MeUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(
        max_length=80, allow_blank=True, required=False
    )
    default_language = serializers.ChoiceField(choices=Language.choices, required=False)
    ui_preferences = UIPreferencesField(required=False)
    current_organization = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        organization_lookup="pk",
        allow_null=True,
        required=False,
    )


class OrganizationSerializer(serializers.ModelSerializer):
    """An organization as its members see it, with the caller's role."""

    role = serializers.SerializerMethodField()
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "role", "member_count", "created_at"]
        read_only_fields = ["slug", "created_at"]
        extra_kwargs = {"name": {"max_length": 120, "trim_whitespace": True}}

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, organization: Organization) -> str | None:
        # Annotated by the viewset's queryset; looked up for fresh objects.
        role = getattr(organization, "my_role", None)
        if role is None and "request" in self.context:
            role = (
                organization.memberships.filter(user=self.context["request"].user)
                .values_list("role", flat=True)
                .first()
            )
        return role


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["username", "email", "display_name", "role", "created_at"]
        read_only_fields = ["role", "created_at"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_display_name(self, membership: Membership) -> str:
        profile = getattr(membership.user, "profile", None)
        return profile.display_name if profile else ""


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)

    def validate_username(self, value: str):
        user = get_user_model().objects.filter(username=value.strip()).first()
        if user is None:
            raise serializers.ValidationError(
                f"no user named {value.strip()!r}; they need an account first"
            )
        return user


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
