from django.contrib import admin

from webapp.models_registry.models import ModelActivation, ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "preset", "organization", "status", "created_at")
    list_filter = ("status", "preset")
    search_fields = ("name", "checkpoint_dir")
    readonly_fields = ("checkpoint_sha256", "config", "metrics", "metadata")
    raw_id_fields = ("parent", "organization", "created_by")


@admin.register(ModelActivation)
class ModelActivationAdmin(admin.ModelAdmin):
    list_display = ("version", "organization", "activated_by", "activated_at", "note")
    list_filter = ("organization",)
    raw_id_fields = ("version", "organization", "activated_by")
