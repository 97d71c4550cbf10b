"""Generation jobs, their candidates, bulk runs and schedules."""

from django.conf import settings
from django.db import models

from webapp.accounts.models import Organization
from webapp.brand.models import Persona
from webapp.campaigns.models import Campaign, ContentType
from webapp.models_registry.models import ModelVersion


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATUSES = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


class CandidateStatus(models.TextChoices):
    NEW = "new", "New"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class BulkKind(models.TextChoices):
    SCHEDULE = "schedule", "Scheduled"
    CSV = "csv", "CSV upload"


class BulkStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Launching jobs"
    DONE = "done", "All jobs launched"
    FAILED = "failed", "Failed"


class BulkRun(models.Model):
    """One fan-out of many jobs: a schedule firing, or a CSV upload.

    items holds what is still to be launched (validated rows or campaign and
    content-type pairs); cursor is how far the fan-out task got, so a chunk
    that is redelivered starts where the last one stopped.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="bulk_runs"
    )
    kind = models.CharField(max_length=16, choices=BulkKind.choices)
    schedule = models.ForeignKey(
        "GenerationSchedule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    content_type = models.CharField(
        max_length=32, choices=ContentType.choices, blank=True
    )
    num_candidates = models.PositiveSmallIntegerField(default=4)
    params = models.JSONField(default=dict, blank=True)
    source_name = models.CharField(max_length=255, blank=True)
    items = models.JSONField(default=list, blank=True)
    cursor = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=BulkStatus.choices, default=BulkStatus.PENDING
    )
    launched_count = models.PositiveIntegerField(default=0)
    # [{"campaign": id, "content_type": "...", "reason": "..."}]
    skipped = models.JSONField(default=list, blank=True)
    # [{"item": n, "line": n, "error": "..."}]
    failures = models.JSONField(default=list, blank=True)
    error_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.pk}"


class GenerationJob(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="generation_jobs"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="generation_jobs"
    )
    content_type = models.CharField(max_length=32, choices=ContentType.choices)
    persona = models.ForeignKey(
        Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # With per_persona the job makes num_candidates for each persona of the
    # campaign; variants lists one prompt spec per persona (or just one).
    per_persona = models.BooleanField(default=False)
    num_candidates = models.PositiveSmallIntegerField()
    total_candidates = models.PositiveSmallIntegerField()
    params = models.JSONField(default=dict)
    # [{"persona_id": id | None, "spec": GenerationSpec.to_dict()}]: what was
    # asked, frozen at launch so later campaign edits do not change the job.
    variants = models.JSONField(default=list)
    # Brand-safety rules frozen at launch: required_phrases, banned_words,
    # allowed_domains.
    safety_rules = models.JSONField(default=dict, blank=True)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="jobs"
    )
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=300, blank=True)
    error_message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    bulk_run = models.ForeignKey(
        BulkRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # Line of the CSV file this job came from, for the bulk download.
    source_line = models.PositiveIntegerField(null=True, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    # The claim: which worker runs the job and until when its lease holds.
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Seconds spent inside Copywriter.generate() and loading the model, so the
    # overhead of the job machinery can be measured.
    generate_seconds = models.FloatField(default=0.0)
    load_seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["status", "lease_expires_at"]),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.content_type}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class Candidate(models.Model):
    job = models.ForeignKey(
        GenerationJob, on_delete=models.CASCADE, related_name="candidates"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="candidates"
    )
    index = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=32, choices=ContentType.choices)
    persona = models.ForeignKey(
        Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    score = models.FloatField(help_text="mean log-probability per token")
    token_count = models.PositiveIntegerField(default=0)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="+"
    )
    seed = models.BigIntegerField()
    params = models.JSONField(default=dict)
    prompt_dropped = models.JSONField(default=list, blank=True)
    # [{"code": "email", "message": "contains an e-mail address: a@b.com"}]
    safety_flags = models.JSONField(default=list, blank=True)
    flagged = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=CandidateStatus.choices, default=CandidateStatus.NEW
    )
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job_id", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "index"], name="unique_candidate_per_job_index"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["campaign", "status"]),
        ]

    def __str__(self) -> str:
        return f"candidate {self.index} of job {self.job_id}"


class GenerationSchedule(models.Model):
    """Recurring bulk generation; the timing lives on a django-celery-beat task.

    campaigns empty means every active campaign of the organization at the time
    the schedule fires.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="generation_schedules"
    )
    name = models.CharField(max_length=120)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="generation_schedule",
    )
    campaigns = models.ManyToManyField(Campaign, blank=True, related_name="+")
    content_types = models.JSONField(default=list)
    num_candidates = models.PositiveSmallIntegerField(default=4)
    params = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_schedule_name"
            )
        ]

    def __str__(self) -> str:
        return self.name
