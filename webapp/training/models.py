"""Fine-tuning runs, the retraining policy, and model management events.

A TrainingJob turns an organization's feedback (ratings, edits, approvals)
into a new ModelVersion whose parent is the version it started from. The new
version is never activated by the job: an admin compares and activates it, so
a bad run cannot change what marketers generate with.
"""

from django.conf import settings
from django.db import models

from webapp.accounts.models import Organization
from webapp.campaigns.models import Campaign, ContentType
from webapp.models_registry.models import ModelVersion


class TrainingStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_TRAINING_STATUSES = {
    TrainingStatus.SUCCEEDED,
    TrainingStatus.FAILED,
    TrainingStatus.CANCELLED,
}


class TrainingTrigger(models.TextChoices):
    MANUAL = "manual", "Started by an admin"
    AUTOMATIC = "automatic", "Retraining policy"


class TrainingJob(models.Model):
    """One fine-tuning run of an organization's model on its feedback.

    ``options`` holds what was asked at launch (dataset filters, steps,
    learning rate, replay ratio, preference learning), ``data_card`` what the
    dataset turned out to be when the run started (counts, date range,
    sha256), so the run can be explained later even if feedback changed.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="training_jobs"
    )
    base_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="training_jobs"
    )
    resulting_version = models.OneToOneField(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_job",
    )
    trigger = models.CharField(
        max_length=16, choices=TrainingTrigger.choices, default=TrainingTrigger.MANUAL
    )
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=TrainingStatus.choices, default=TrainingStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=300, blank=True)
    # Timestamped lines, newest last; capped by the runner (see runner.MAX_LOG_CHARS).
    logs = models.TextField(blank=True)
    # [{"step": n, "loss": x}, {"step": n, "heldout_loss": y}, ...]
    loss_curve = models.JSONField(default=list, blank=True)
    data_card = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    celery_task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Renewed while the worker trains; a running job whose heartbeat is old
    # lost its worker (see services.fail_stale_training_jobs).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"training job {self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("training:job_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_TRAINING_STATUSES


class RetrainingPolicy(models.Model):
    """Fine-tune automatically once N new rated or edited candidates arrived.

    The check runs from a django-celery-beat periodic task over every
    organization with an enabled policy (tasks.check_retraining).
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="retraining_policy"
    )
    enabled = models.BooleanField(default=True)
    min_new_feedback = models.PositiveIntegerField(default=50)
    # Same keys as a launch's options (filters, max_steps, ...).
    options = models.JSONField(default=dict, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "retraining policies"

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"retrain {self.organization} after {self.min_new_feedback} ({state})"


class ModelEventKind(models.TextChoices):
    TRAINED = "trained", "Trained"
    UPLOADED = "uploaded", "Uploaded"
    ACTIVATED = "activated", "Activated"
    ROLLED_BACK = "rolled_back", "Rolled back"
    ARCHIVED = "archived", "Archived"
    RESTORED = "restored", "Restored"


class ModelEvent(models.Model):
    """Who changed what about a model version, and when.

    Activations themselves live in models_registry's ModelActivation log (the
    newest entry wins); this log adds the changes that are not activations
    (archive, restore, upload, training) and marks rollbacks, so the version
    page tells the whole story.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="model_events"
    )
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=ModelEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"


class ModelComparison(models.Model):
    """Two versions asked the same prompt with the same seeds, side by side.

    It is a pair of ordinary generation jobs (same campaign, content type,
    parameters and seed; one per version), so the candidates are made, stored
    and reviewed like any others, and their scores come from the generator.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="model_comparisons"
    )
    version_a = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="+"
    )
    version_b = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="+"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    content_type = models.CharField(max_length=32, choices=ContentType.choices)
    num_candidates = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField()
    job_a = models.ForeignKey(
        "generation.GenerationJob", on_delete=models.CASCADE, related_name="+"
    )
    job_b = models.ForeignKey(
        "generation.GenerationJob", on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version_a} vs {self.version_b}"
