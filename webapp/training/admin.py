from django.contrib import admin

from webapp.training.models import (
    ModelComparison,
    ModelEvent,
    RetrainingPolicy,
    TrainingJob,
)


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "organization", "base_version", "status", "progress")
    list_filter = ("status", "trigger")
    readonly_fields = ("logs", "loss_curve", "data_card", "metrics")


@admin.register(RetrainingPolicy)
class RetrainingPolicyAdmin(admin.ModelAdmin):
    list_display = ("organization", "enabled", "min_new_feedback", "last_checked_at")


@admin.register(ModelEvent)
class ModelEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "organization", "version", "kind", "user")
    list_filter = ("kind",)


@admin.register(ModelComparison)
class ModelComparisonAdmin(admin.ModelAdmin):
    list_display = ("created_at", "organization", "version_a", "version_b")
