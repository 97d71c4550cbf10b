"""Registered model checkpoints and which one each organization generates with."""

from django.conf import settings
from django.db import models

from webapp.accounts.models import Organization


class ModelStatus(models.TextChoices):
    READY = "ready", "Ready"
    ARCHIVED = "archived", "Archived"


class ModelVersion(models.Model):
    """A validated checkpoint directory under settings.MODEL_DIR.

    organization is empty for versions every organization may use (the demo
    model, models trained by the operators); fine-tuned versions belong to the
    organization whose data trained them.
    """

    name = models.CharField(max_length=120, unique=True)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="model_versions",
    )
    checkpoint_dir = models.CharField(max_length=500)
    # sha256 over the checkpoint files; registering the same files twice is a no-op.
    checkpoint_sha256 = models.CharField(max_length=64, unique=True)
    preset = models.CharField(max_length=32, blank=True)
    config = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    status = models.CharField(
        max_length=16, choices=ModelStatus.choices, default=ModelStatus.READY
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
        return self.name


class ModelActivation(models.Model):
    """One entry of the activation log; the newest entry for an organization wins.

    An entry without organization sets the global default. Keeping every
    activation (instead of a pointer) gives history and one-step rollback.
    """

    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="model_activations",
    )
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="activations"
    )
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    activated_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-activated_at", "-id"]
        indexes = [models.Index(fields=["organization", "-activated_at"])]

    def __str__(self) -> str:
        scope = self.organization or "global default"
        return f"{self.version} for {scope}"
