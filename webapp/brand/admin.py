"""Admin of brand voices and personas (validated by the models' clean())."""

from django.contrib import admin

from webapp.brand.models import BrandVoice, Persona


@admin.register(BrandVoice)
class BrandVoiceAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "language_list", "updated_at"]
    list_filter = ["organization", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["name", "description", "organization__name"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="languages")
    def language_list(self, voice):
        return ", ".join(voice.languages)


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "age_min", "age_max", "locale"]
    list_filter = ["organization", "locale"]
    list_select_related = ["organization"]
    search_fields = ["name", "description", "organization__name"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at", "updated_at"]
