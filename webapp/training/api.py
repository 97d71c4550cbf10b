"""API of the feedback loop: data export, training jobs, model management.

Same rules as the rest of the API: another organization's objects answer 404,
reads need membership, writes (and the feedback export, which is the
organization's whole review history) need the admin role, else 403. Every
write goes through webapp.training.services.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts.api_base import (
    OrganizationField,
    OrganizationScopedViewSet,
    ScopedPrimaryKeyRelatedField,
    StandardPagination,
    member_organization_ids,
    service_errors,
    user_roles,
)
from webapp.accounts.models import CAN_MANAGE, Organization
from webapp.campaigns.models import Campaign, ContentType
from webapp.models_registry.models import ModelVersion
from webapp.training import services
from webapp.training.dataset import FORMATS, build_dataset, clean_options
from webapp.training.models import ModelComparison, TrainingJob

TAGS = ["feedback loop"]


def _visible_versions(user) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(
        Q(organization__isnull=True) | Q(organization__in=member_organization_ids(user))
    )


def organization_for(request, version: ModelVersion | None = None) -> Organization:
    """The organization a request acts in: ?organization= / body, else implied.

    Not a member: 404, as for any other organization's object.
    """
    raw = request.query_params.get("organization")
    if raw is None and hasattr(request, "data") and hasattr(request.data, "get"):
        raw = request.data.get("organization")
    roles = user_roles(request)
    if raw not in (None, ""):
        text = str(raw)
        if not text.isdigit():
            raise serializers.ValidationError(
                {"organization": [f"expected an organization id, got {raw!r}"]}
            )
        if int(text) not in roles:
            raise Http404("no such organization")
        return Organization.objects.get(pk=int(text))
    if version is not None and version.organization_id:
        return version.organization
    if len(roles) == 1:
        return Organization.objects.get(pk=next(iter(roles)))
    raise serializers.ValidationError(
        {
            "organization": [
                "organization is required: you belong to several organizations"
                if roles
                else "you belong to no organization"
            ]
        }
    )


def require_admin(request, organization: Organization) -> None:
    from rest_framework.exceptions import PermissionDenied

    role = user_roles(request).get(organization.pk)
    if role not in CAN_MANAGE:
        raise PermissionDenied(
            f"this needs the admin role in {organization.name}; yours is "
            f"{role or 'none'}"
        )


# ---------------------------------------------------------------- export


EXPORT_PARAMETERS = [
    OpenApiParameter("organization", OpenApiTypes.INT, description="Organization."),
    OpenApiParameter("min_rating", OpenApiTypes.INT, description="1-5 (default 4)."),
    OpenApiParameter("since", OpenApiTypes.DATE, description="Generated on or after."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Generated on or before."),
    OpenApiParameter(
        "campaigns", OpenApiTypes.STR, description="Ids, comma separated."
    ),
    OpenApiParameter(
        "content_types", OpenApiTypes.STR, description="Keys, comma separated."
    ),
]


def _dataset_from_query(request):
    fmt = request.query_params.get("format", "sft")
    if fmt not in FORMATS:
        raise serializers.ValidationError(
            {"format": [f"format must be sft or preference, got {fmt!r}"]}
        )
    organization = organization_for(request)
    require_admin(request, organization)
    params = {
        key: request.query_params.get(key)
        for key in ("min_rating", "since", "until", "campaigns", "content_types")
        if request.query_params.get(key) not in (None, "")
    }
    with service_errors():
        options = clean_options(params, organization)
    return organization, build_dataset(organization, fmt, options)


class _JSONOnly:
    """Ignore DRF's ``?format=`` renderer switch: here it names the dataset."""

    def perform_content_negotiation(self, request, force=False):
        renderer = renderers.JSONRenderer()
        return renderer, renderer.media_type


class FeedbackExportView(_JSONOnly, APIView):
    """The organization's feedback as TRL-format JSONL (sft or preference)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=list(FORMATS), description="sft"
            ),
            *EXPORT_PARAMETERS,
        ],
        responses={(200, "application/jsonl"): OpenApiTypes.STR},
    )
    def get(self, request):
        organization, dataset = _dataset_from_query(request)
        response = HttpResponse(
            dataset.text, content_type="application/jsonl; charset=utf-8"
        )
        name = f"{organization.slug}-feedback-{dataset.format}-{dataset.sha256[:8]}"
        response["Content-Disposition"] = f'attachment; filename="{name}.jsonl"'
        response["X-Dataset-Count"] = str(dataset.card["count"])
        response["X-Dataset-SHA256"] = dataset.sha256
        return response


class FeedbackCardView(_JSONOnly, APIView):
    """The dataset card of an export: counts, date range, filters, sha256."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS)),
            *EXPORT_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        _, dataset = _dataset_from_query(request)
        return Response(dataset.card)


# ---------------------------------------------------------------- training jobs


class VersionField(serializers.PrimaryKeyRelatedField):
    """A model version the user's organizations may use (shared or their own)."""

    default_error_messages = {
        "does_not_exist": "no model version with id {pk_value}",
        "incorrect_type": "expected an integer id, got {data_type}",
    }

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return ModelVersion.objects.none()
        return _visible_versions(request.user)


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "name", "status", "organization", "parent", "created_at"]
        read_only_fields = fields


class TrainingJobSerializer(serializers.ModelSerializer):
    organization = OrganizationField()
    base_version = VersionField(
        required=False,
        allow_null=True,
        help_text="Version to start from; default: the organization's active one.",
    )
    options = serializers.JSONField(
        required=False,
        help_text=(
            "max_steps, batch_size, learning_rate, replay_ratio, heldout_fraction, "
            "seed, preference, preference_steps, preference_beta, "
            "preference_learning_rate, and dataset: {min_rating, since, until, "
            "campaigns, content_types}."
        ),
    )
    resulting_version = VersionSummarySerializer(read_only=True)

    class Meta:
        model = TrainingJob
        fields = [
            "id",
            "organization",
            "base_version",
            "resulting_version",
            "trigger",
            "options",
            "status",
            "progress",
            "progress_message",
            "logs",
            "loss_curve",
            "data_card",
            "metrics",
            "error_message",
            "cancel_requested",
            "created_by",
            "celery_task_id",
            "queued_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = [
            f for f in fields if f not in ("organization", "base_version", "options")
        ]

    def validate_options(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("options must be an object")
        return value


class TrainingJobViewSet(OrganizationScopedViewSet):
    """Fine-tuning runs: launch (admins), list, detail with live progress, cancel."""

    # organization, base_version, resulting_version and created_by joined: one
    # query per page plus the count.
    queryset = TrainingJob.objects.select_related(
        "organization", "base_version", "resulting_version", "created_by"
    ).order_by("-queued_at", "-id")
    serializer_class = TrainingJobSerializer
    write_roles = CAN_MANAGE
    filterset_fields = ["organization", "status"]
    search_fields: list[str] = []
    ordering_fields = ["queued_at"]
    http_method_names = ["get", "post", "head", "options"]

    def create_object(self, data):
        return services.do_launch_training(
            organization=data["organization"],
            user=self.request.user,
            base_version=data.get("base_version"),
            options=data.get("options") or {},
        )

    @extend_schema(tags=TAGS, request=None, responses=TrainingJobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        with service_errors():
            job = services.do_cancel_training(job, request.user)
        return Response(self.get_serializer(job).data)


# ---------------------------------------------------------------- model versions


class ModelVersionDetailSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "organization",
            "preset",
            "status",
            "metrics",
            "metadata",
            "parent",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class OrganizationBodySerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)


class UploadSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)
    file = serializers.FileField(help_text="A zip of a checkpoint folder.")


class CompareSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    version_a = VersionField(queryset=ModelVersion.objects.all())
    version_b = VersionField(queryset=ModelVersion.objects.all())
    campaign = ScopedPrimaryKeyRelatedField(queryset=Campaign.objects.all())
    content_type = serializers.ChoiceField(choices=ContentType.choices)
    num_candidates = serializers.IntegerField(min_value=1, max_value=25, default=4)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    params = serializers.JSONField(required=False)


class ComparisonSerializer(serializers.ModelSerializer):
    rows = serializers.SerializerMethodField()

    class Meta:
        model = ModelComparison
        fields = [
            "id",
            "organization",
            "version_a",
            "version_b",
            "campaign",
            "content_type",
            "num_candidates",
            "seed",
            "job_a",
            "job_b",
            "created_by",
            "created_at",
            "rows",
        ]
        read_only_fields = fields

    def get_rows(self, comparison) -> list[dict]:
        def side(candidate):
            if candidate is None:
                return None
            return {
                "id": candidate.pk,
                "text": candidate.current_text,
                "score": candidate.score,
                "seed": candidate.seed,
                "avg_stars": candidate.avg_stars,
                "status": candidate.status,
            }

        return [
            {"index": row["index"], "a": side(row["a"]), "b": side(row["b"])}
            for row in services.comparison_rows(comparison)
        ]


def _version_payload(version: ModelVersion, organization: Organization) -> dict:
    job = TrainingJob.objects.filter(resulting_version=version).first()
    return {
        **ModelVersionDetailSerializer(version).data,
        "lineage": [
            {"id": v.pk, "name": v.name, "status": v.status}
            for v in services.lineage(version, organization)
        ],
        "rating_stats": services.rating_stats(version, organization).to_dict(),
        "history": [
            {**entry, "at": entry["at"].isoformat()}
            for entry in services.history(version, organization)
        ],
        "training_job": job.pk if job else None,
        "data_card": job.data_card if job else None,
        "loss_curve": (version.metadata or {}).get("loss_curve", []),
    }


class ModelVersionViewSet(viewsets.GenericViewSet):
    """Model management (admins for writes): lineage, statistics, activate,
    roll back, archive, restore, compare, upload a checkpoint zip."""

    permission_classes = [IsAuthenticated]
    pagination_class = StandardPagination
    serializer_class = ModelVersionDetailSerializer
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ModelVersion.objects.none()
        return _visible_versions(self.request.user).select_related(
            "organization", "parent"
        )

    @extend_schema(tags=TAGS, responses=ModelVersionDetailSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset().order_by("-created_at"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("organization", OpenApiTypes.INT)],
        responses=OpenApiTypes.OBJECT,
    )
    def retrieve(self, request, pk=None):
        version = self.get_object()
        organization = organization_for(request, version)
        return Response(_version_payload(version, organization))

    @extend_schema(tags=TAGS, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def lineage(self, request, pk=None):
        version = self.get_object()
        organization = organization_for(request, version)
        return Response(
            [
                {
                    "id": v.pk,
                    "name": v.name,
                    "status": v.status,
                    "metrics": v.metrics,
                    "created_at": v.created_at.isoformat(),
                }
                for v in services.lineage(version, organization)
            ]
        )

    @extend_schema(tags=TAGS, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        version = self.get_object()
        organization = organization_for(request, version)
        return Response(services.rating_stats(version, organization).to_dict())

    def _write(self, request, pk, operation):
        version = self.get_object()
        organization = organization_for(request, version)
        require_admin(request, organization)
        with service_errors():
            operation(version, organization, request.user)
        version.refresh_from_db()
        return Response(_version_payload(version, organization))

    @extend_schema(
        tags=TAGS, request=OrganizationBodySerializer, responses=OpenApiTypes.OBJECT
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._write(
            request, pk, lambda v, o, u: services.do_activate(v, o, u, "API")
        )

    @extend_schema(
        tags=TAGS, request=OrganizationBodySerializer, responses=OpenApiTypes.OBJECT
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._write(request, pk, services.do_archive)

    @extend_schema(
        tags=TAGS, request=OrganizationBodySerializer, responses=OpenApiTypes.OBJECT
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        return self._write(request, pk, services.do_restore)

    @extend_schema(
        tags=TAGS,
        request=OrganizationBodySerializer,
        responses=inline_serializer(
            "RollbackResult",
            {
                "active": serializers.IntegerField(),
                "name": serializers.CharField(),
            },
        ),
    )
    @action(detail=False, methods=["post"])
    def rollback(self, request):
        organization = organization_for(request)
        require_admin(request, organization)
        with service_errors():
            activation = services.do_rollback(organization, request.user)
        return Response(
            {"active": activation.version_id, "name": activation.version.name}
        )

    @extend_schema(tags=TAGS, request=UploadSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"])
    def upload(self, request):
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = organization_for(request)
        require_admin(request, organization)
        with service_errors():
            version = services.do_upload_checkpoint(
                organization=organization,
                user=request.user,
                upload=serializer.validated_data["file"],
                name=serializer.validated_data.get("name", ""),
            )
        return Response(
            _version_payload(version, organization), status=status.HTTP_201_CREATED
        )

    @extend_schema(tags=TAGS, request=CompareSerializer, responses=ComparisonSerializer)
    @action(detail=False, methods=["post"])
    def compare(self, request):
        serializer = CompareSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = organization_for(request)
        require_admin(request, organization)
        with service_errors():
            comparison = services.do_compare(
                organization=organization,
                user=request.user,
                version_a=data["version_a"],
                version_b=data["version_b"],
                campaign=data["campaign"],
                content_type=data["content_type"],
                num_candidates=data["num_candidates"],
                seed=data.get("seed"),
                params=data.get("params"),
            )
        return Response(
            ComparisonSerializer(comparison).data, status=status.HTTP_201_CREATED
        )


class ComparisonViewSet(viewsets.ReadOnlyModelViewSet):
    """Comparisons of two versions; rows pair candidate i of each side."""

    serializer_class = ComparisonSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = StandardPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ModelComparison.objects.none()
        return ModelComparison.objects.filter(
            organization__in=member_organization_ids(self.request.user)
        ).order_by("-created_at", "-id")
