"""Admin of campaigns.

The form refuses a brand voice or personas of another organization, like the
API and the services do (the model's clean() cannot see many-to-many values).
"""

from django import forms
from django.contrib import admin

from webapp.campaigns.models import MAX_CAMPAIGN_PERSONAS, Campaign


class CampaignAdminForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
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
        ]

    def clean(self):
        cleaned = super().clean()
        organization = cleaned.get("organization")
        personas = cleaned.get("personas")
        if organization is not None and personas is not None:
            foreign = [p.name for p in personas if p.organization_id != organization.pk]
            if foreign:
                self.add_error(
                    "personas",
                    "personas must belong to the campaign's organization: "
                    + ", ".join(foreign),
                )
            if len(personas) > MAX_CAMPAIGN_PERSONAS:
                self.add_error(
                    "personas", f"at most {MAX_CAMPAIGN_PERSONAS} personas allowed"
                )
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignAdminForm
    list_display = [
        "name",
        "organization",
        "product_name",
        "language",
        "status",
        "owner",
        "updated_at",
    ]
    list_filter = ["status", "language", "organization", "created_at"]
    list_select_related = ["organization", "owner"]
    search_fields = ["name", "product_name", "organization__name"]
    autocomplete_fields = ["organization", "brand_voice", "personas", "owner"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "updated_at"
    list_per_page = 50
