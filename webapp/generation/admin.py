from django.contrib import admin, messages

from webapp.generation.models import (
    BulkRun,
    Candidate,
    GenerationJob,
    GenerationSchedule,
)
from webapp.generation.services import do_cancel_job


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "organization",
        "campaign",
        "content_type",
        "status",
        "progress",
        "attempts",
        "queued_at",
    )
    list_filter = ("status", "content_type", "organization")
    raw_id_fields = (
        "organization",
        "campaign",
        "persona",
        "model_version",
        "created_by",
        "bulk_run",
    )
    readonly_fields = (
        "lease_owner",
        "lease_expires_at",
        "attempts",
        "generate_seconds",
        "load_seconds",
        "celery_task_id",
    )
    actions = ["cancel_jobs"]

    @admin.action(description="Cancel selected jobs")
    def cancel_jobs(self, request, queryset):
        for job in queryset:
            try:
                do_cancel_job(job, request.user)
            except Exception as exc:  # noqa: BLE001 - report and go on
                self.message_user(request, str(exc), messages.WARNING)


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ("id", "job", "index", "status", "flagged", "score", "created_at")
    list_filter = ("status", "flagged", "content_type")
    search_fields = ("text",)
    raw_id_fields = (
        "job",
        "organization",
        "campaign",
        "persona",
        "model_version",
        "status_changed_by",
    )


@admin.register(BulkRun)
class BulkRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "organization",
        "kind",
        "status",
        "launched_count",
        "created_at",
    )
    list_filter = ("kind", "status")
    raw_id_fields = ("organization", "schedule", "campaign", "created_by")


@admin.register(GenerationSchedule)
class GenerationScheduleAdmin(admin.ModelAdmin):
    """The timing is edited on the linked periodic task (django-celery-beat)."""

    list_display = (
        "name",
        "organization",
        "enabled",
        "periodic_task",
        "num_candidates",
    )
    list_filter = ("enabled", "organization")
    raw_id_fields = ("organization", "periodic_task", "created_by")
    filter_horizontal = ("campaigns",)
