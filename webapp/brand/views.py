"""API viewsets of brand voices and personas.

Writable by admins, marketers and editors (``CAN_EDIT_CONTENT``): editors
review copy against the brand voice and keep it current; viewers only read.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view

from webapp.accounts.api_base import (
    OrganizationFilterSet,
    OrganizationScopedViewSet,
    json_list_contains,
)
from webapp.accounts.models import CAN_EDIT_CONTENT, Language
from webapp.brand import services
from webapp.brand.models import BrandVoice, Persona
from webapp.brand.serializers import BrandVoiceSerializer, PersonaSerializer


class BrandVoiceFilter(OrganizationFilterSet):
    language = django_filters.ChoiceFilter(
        choices=Language.choices,
        method="filter_language",
        help_text="Brand voices that list this language.",
    )

    class Meta:
        model = BrandVoice
        fields = ["organization", "language"]

    def filter_language(self, queryset, name, value):
        return queryset.filter(json_list_contains("languages", value))


@extend_schema_view(
    list=extend_schema(tags=["brand"]),
    retrieve=extend_schema(tags=["brand"]),
    create=extend_schema(tags=["brand"]),
    update=extend_schema(tags=["brand"]),
    partial_update=extend_schema(tags=["brand"]),
    destroy=extend_schema(tags=["brand"]),
)
class BrandVoiceViewSet(OrganizationScopedViewSet):
    """Brand voices of your organizations."""

    queryset = BrandVoice.objects.all()
    serializer_class = BrandVoiceSerializer
    write_roles = CAN_EDIT_CONTENT
    filterset_class = BrandVoiceFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def create_object(self, data):
        return services.do_create_brand_voice(data.pop("organization"), **data)

    def update_object(self, instance, data):
        return services.do_update_brand_voice(instance, **data)

    def delete_object(self, instance):
        services.do_delete_brand_voice(instance)


class PersonaFilter(OrganizationFilterSet):
    locale = django_filters.CharFilter(field_name="locale", lookup_expr="iexact")

    class Meta:
        model = Persona
        fields = ["organization", "locale"]


@extend_schema_view(
    list=extend_schema(tags=["brand"]),
    retrieve=extend_schema(tags=["brand"]),
    create=extend_schema(tags=["brand"]),
    update=extend_schema(tags=["brand"]),
    partial_update=extend_schema(tags=["brand"]),
    destroy=extend_schema(tags=["brand"]),
)
class PersonaViewSet(OrganizationScopedViewSet):
    """Audience personas of your organizations."""

    queryset = Persona.objects.all()
    serializer_class = PersonaSerializer
    write_roles = CAN_EDIT_CONTENT
    filterset_class = PersonaFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at", "age_min"]

    def create_object(self, data):
        return services.do_create_persona(data.pop("organization"), **data)

    def update_object(self, instance, data):
        return services.do_update_persona(instance, **data)

    def delete_object(self, instance):
        services.do_delete_persona(instance)
