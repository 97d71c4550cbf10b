"""Serializers of jobs, candidates, schedules and bulk runs."""

from __future__ import annotations

import json

from rest_framework import serializers

from webapp.accounts.api_base import (
    OrganizationScopedSerializer,
    ScopedPrimaryKeyRelatedField,
)
from webapp.brand.models import Persona
from webapp.campaigns.models import Campaign, Channel, ContentType
from webapp.generation.models import (
    BulkRun,
    Candidate,
    GenerationJob,
    GenerationSchedule,
)
from webapp.generation.presets import PRESET_CHOICES, params_for
from webapp.generation.services import MAX_CANDIDATES_PER_JOB, schedule_timing
from webapp.models_registry.models import ModelVersion


class CampaignField(ScopedPrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault(
            "queryset", Campaign.objects.select_related("organization", "brand_voice")
        )
        kwargs.setdefault("help_text", "Id of a campaign in one of your organizations.")
        super().__init__(**kwargs)


class JobSerializer(serializers.ModelSerializer):
    """A job as the API shows it; the lease and worker details stay inside."""

    model_version_name = serializers.CharField(source="model_version.name")
    created_by = serializers.CharField(
        source="created_by.username", default=None, read_only=True
    )

    class Meta:
        model = GenerationJob
        fields = [
            "id",
            "organization",
            "campaign",
            "content_type",
            "persona",
            "per_persona",
            "num_candidates",
            "total_candidates",
            "params",
            "variants",
            "model_version",
            "model_version_name",
            "status",
            "progress",
            "progress_message",
            "error_message",
            "cancel_requested",
            "created_by",
            "bulk_run",
            "source_line",
            "queued_at",
            "started_at",
            "finished_at",
            "attempts",
            "generate_seconds",
            "load_seconds",
        ]
        read_only_fields = fields


class JobLaunchSerializer(serializers.Serializer):
    """What a marketer sends to launch a job."""

    campaign = CampaignField()
    content_type = serializers.ChoiceField(choices=ContentType.choices)
    num_candidates = serializers.IntegerField(
        min_value=1, max_value=MAX_CANDIDATES_PER_JOB, default=4
    )
    persona = ScopedPrimaryKeyRelatedField(
        queryset=Persona.objects.all(),
        required=False,
        allow_null=True,
        help_text="Write for this persona of the campaign's organization.",
    )
    per_persona = serializers.BooleanField(
        default=False,
        help_text="Make num_candidates for each persona of the campaign.",
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, allow_blank=True, default=""
    )
    model_version = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(),
        required=False,
        allow_null=True,
        help_text="Default: the version active for the campaign's organization.",
    )
    params = serializers.JSONField(
        required=False,
        default=dict,
        help_text="Decoding parameters (max_new_tokens, temperature, top_p, "
        "num_beams, bad_words, seed ...); see generator.params.GenerationParams.",
    )
    preset = serializers.ChoiceField(
        choices=PRESET_CHOICES,
        required=False,
        help_text="A creativity preset, as on the generate page: its parameters "
        "(and max_new_tokens sized for the content type) are defaults that "
        "params overrides. Without it, params alone apply, with Hugging Face "
        "generate() defaults for what they omit.",
    )

    def validate_params(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(
                f"params must be an object, got {type(value).__name__}"
            )
        return value

    def validate(self, attrs):
        preset = attrs.pop("preset", None)
        if preset is not None:
            attrs["params"] = params_for(
                preset, attrs["content_type"], attrs.get("params")
            )
        persona = attrs.get("persona")
        campaign = attrs["campaign"]
        if persona is not None and persona.organization_id != campaign.organization_id:
            raise serializers.ValidationError(
                {
                    "persona": [
                        f"no persona with id {persona.pk} in the campaign's "
                        "organization"
                    ]
                }
            )
        return attrs


class CandidateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Candidate
        fields = [
            "id",
            "job",
            "organization",
            "campaign",
            "index",
            "content_type",
            "persona",
            "text",
            "score",
            "token_count",
            "model_version",
            "seed",
            "params",
            "prompt_dropped",
            "safety_flags",
            "flagged",
            "status",
            "status_changed_at",
            "created_at",
        ]
        read_only_fields = fields


class ScheduleSerializer(OrganizationScopedSerializer):
    campaigns = CampaignField(
        many=True,
        required=False,
        help_text="Campaigns to generate for; empty: every active campaign.",
    )
    content_types = serializers.ListField(
        child=serializers.ChoiceField(choices=ContentType.choices),
        min_length=1,
        max_length=len(ContentType.choices),
    )
    cron = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=120,
        help_text="Five cron fields, e.g. '0 9 * * 1' (Mondays 09:00).",
    )
    interval_seconds = serializers.IntegerField(
        required=False, allow_null=True, min_value=60
    )
    num_candidates = serializers.IntegerField(
        min_value=1, max_value=MAX_CANDIDATES_PER_JOB, default=4
    )
    params = serializers.JSONField(required=False, default=dict)
    last_run_at = serializers.DateTimeField(
        source="periodic_task.last_run_at", read_only=True, default=None
    )

    class Meta:
        model = GenerationSchedule
        fields = [
            "id",
            "organization",
            "name",
            "campaigns",
            "content_types",
            "cron",
            "interval_seconds",
            "num_candidates",
            "params",
            "enabled",
            "last_run_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data.update(schedule_timing(instance))
        return data

    def validate(self, attrs):
        self.check_same_organization(attrs, "campaigns")
        if (
            self.instance is None
            and not attrs.get("cron")
            and not attrs.get("interval_seconds")
        ):
            raise serializers.ValidationError(
                {"cron": ["give cron or interval_seconds"]}
            )
        if attrs.get("cron") and attrs.get("interval_seconds"):
            raise serializers.ValidationError(
                {"cron": ["give cron or interval_seconds, not both"]}
            )
        return attrs


class BulkRunSerializer(serializers.ModelSerializer):
    job_counts = serializers.SerializerMethodField()

    class Meta:
        model = BulkRun
        fields = [
            "id",
            "organization",
            "kind",
            "schedule",
            "campaign",
            "content_type",
            "num_candidates",
            "source_name",
            "status",
            "launched_count",
            "skipped",
            "failures",
            "error_message",
            "job_counts",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_job_counts(self, bulk: BulkRun) -> dict[str, int]:
        """Jobs of the run by status (the viewset prefetches the jobs)."""
        counts: dict[str, int] = {}
        for job in bulk.jobs.all():
            counts[job.status] = counts.get(job.status, 0) + 1
        return counts


class BulkUploadSerializer(serializers.Serializer):
    """A CSV of products: columns name, description, facts, keywords, persona."""

    campaign = CampaignField()
    content_type = serializers.ChoiceField(choices=ContentType.choices)
    file = serializers.FileField(
        help_text="UTF-8 CSV with the header name,description,facts,keywords and "
        "optionally persona; facts and keywords separated by ';'."
    )
    num_candidates = serializers.IntegerField(
        min_value=1, max_value=MAX_CANDIDATES_PER_JOB, default=4
    )
    params = serializers.CharField(
        required=False,
        default="{}",
        help_text="Decoding parameters as a JSON object (multipart form field).",
    )

    def validate_params(self, value):
        if isinstance(value, dict):
            return value
        try:
            parsed = json.loads(value or "{}")
        except ValueError as exc:
            raise serializers.ValidationError(
                f"params must be a JSON object: {exc}"
            ) from exc
        if not isinstance(parsed, dict):
            raise serializers.ValidationError("params must be a JSON object")
        return parsed
