"""API of generation: jobs, candidates, schedules and bulk runs.

Reads need membership of the object's organization (else 404); launching,
cancelling, schedules and bulk uploads need the admin or marketer role
(``CAN_LAUNCH``) in that organization (else 403). Writes go through
webapp.generation.services.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from webapp.accounts.api_base import (
    IdFilter,
    OrganizationFilterSet,
    OrganizationScopedViewSet,
    service_errors,
)
from webapp.accounts.models import CAN_LAUNCH
from webapp.campaigns.models import ContentType
from webapp.generation import services
from webapp.generation.models import (
    BulkKind,
    BulkRun,
    BulkStatus,
    Candidate,
    CandidateStatus,
    GenerationJob,
    GenerationSchedule,
    JobStatus,
)
from webapp.generation.serializers import (
    BulkRunSerializer,
    BulkUploadSerializer,
    CandidateSerializer,
    JobLaunchSerializer,
    JobSerializer,
    ScheduleSerializer,
)

READ_ONLY = ["get", "head", "options"]


class JobFilter(OrganizationFilterSet):
    campaign = IdFilter(field_name="campaign")
    bulk_run = IdFilter(field_name="bulk_run")
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    content_type = django_filters.ChoiceFilter(choices=ContentType.choices)

    class Meta:
        model = GenerationJob
        fields = ["organization", "campaign", "bulk_run", "status", "content_type"]


@extend_schema_view(
    list=extend_schema(tags=["generation"]),
    retrieve=extend_schema(tags=["generation"]),
    create=extend_schema(
        tags=["generation"],
        request=JobLaunchSerializer,
        responses={201: JobSerializer},
        description="Queue a generation job (admins and marketers). Poll the job "
        "for status and progress.",
    ),
)
class JobViewSet(OrganizationScopedViewSet):
    """Generation jobs of your organizations."""

    queryset = GenerationJob.objects.select_related("model_version", "created_by")
    serializer_class = JobSerializer
    write_roles = CAN_LAUNCH
    http_method_names = ["get", "post", "head", "options"]
    filterset_class = JobFilter
    ordering_fields = ["queued_at", "finished_at", "status"]

    def get_serializer_class(self):
        return JobLaunchSerializer if self.action == "create" else JobSerializer

    def create(self, request, *args, **kwargs):
        launch = JobLaunchSerializer(data=request.data, context={"request": request})
        launch.is_valid(raise_exception=True)
        data = dict(launch.validated_data)
        self.check_organization_role(data["campaign"].organization)
        with service_errors():
            job = services.do_launch_job(user=request.user, **data)
        job = self.get_queryset().get(pk=job.pk)
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["generation"],
        request=None,
        responses={200: JobSerializer},
        description="Cancel a queued job, or stop a running one at its next batch "
        "(finished candidates stay).",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        with service_errors():
            job = services.do_cancel_job(job, request.user)
        return Response(JobSerializer(self.get_queryset().get(pk=job.pk)).data)


class CandidateFilter(OrganizationFilterSet):
    job = IdFilter(field_name="job")
    campaign = IdFilter(field_name="campaign")
    persona = IdFilter(field_name="persona")
    status = django_filters.ChoiceFilter(choices=CandidateStatus.choices)
    content_type = django_filters.ChoiceFilter(choices=ContentType.choices)
    flagged = django_filters.BooleanFilter()

    class Meta:
        model = Candidate
        fields = [
            "organization",
            "job",
            "campaign",
            "persona",
            "status",
            "content_type",
            "flagged",
        ]


@extend_schema_view(
    list=extend_schema(tags=["generation"]),
    retrieve=extend_schema(tags=["generation"]),
)
class CandidateViewSet(OrganizationScopedViewSet):
    """Generated candidates; approve or reject them through /api/v1/decisions/."""

    queryset = Candidate.objects.all()
    serializer_class = CandidateSerializer
    http_method_names = READ_ONLY
    filterset_class = CandidateFilter
    search_fields = ["text"]
    ordering_fields = ["created_at", "score", "index"]


class ScheduleFilter(OrganizationFilterSet):
    class Meta:
        model = GenerationSchedule
        fields = ["organization", "enabled"]


@extend_schema_view(
    list=extend_schema(tags=["generation"]),
    retrieve=extend_schema(tags=["generation"]),
    create=extend_schema(tags=["generation"]),
    update=extend_schema(tags=["generation"]),
    partial_update=extend_schema(tags=["generation"]),
    destroy=extend_schema(tags=["generation"]),
)
class ScheduleViewSet(OrganizationScopedViewSet):
    """Recurring bulk generation (django-celery-beat runs it)."""

    queryset = GenerationSchedule.objects.select_related(
        "periodic_task__crontab", "periodic_task__interval"
    ).prefetch_related("campaigns")
    serializer_class = ScheduleSerializer
    write_roles = CAN_LAUNCH
    filterset_class = ScheduleFilter
    ordering_fields = ["name", "created_at"]

    def create_object(self, data):
        return services.do_create_schedule(
            organization=data.pop("organization"), user=self.request.user, **data
        )

    def update_object(self, instance, data):
        return services.do_update_schedule(instance, **data)

    def delete_object(self, instance):
        services.do_delete_schedule(instance)


class BulkRunFilter(OrganizationFilterSet):
    kind = django_filters.ChoiceFilter(choices=BulkKind.choices)
    status = django_filters.ChoiceFilter(choices=BulkStatus.choices)
    schedule = IdFilter(field_name="schedule")
    campaign = IdFilter(field_name="campaign")

    class Meta:
        model = BulkRun
        fields = ["organization", "kind", "status", "schedule", "campaign"]


@extend_schema_view(
    list=extend_schema(tags=["generation"]),
    retrieve=extend_schema(tags=["generation"]),
    create=extend_schema(
        tags=["generation"],
        request={"multipart/form-data": BulkUploadSerializer},
        responses={201: BulkRunSerializer},
        description="Upload a product CSV; the whole file is checked first and a "
        "file with any bad row creates nothing (400 with line numbers).",
    ),
)
class BulkRunViewSet(OrganizationScopedViewSet):
    """Bulk runs: schedule firings and CSV uploads, one job per row/campaign."""

    queryset = BulkRun.objects.defer("items").prefetch_related(
        Prefetch(
            "jobs", queryset=GenerationJob.objects.only("id", "status", "bulk_run")
        )
    )
    serializer_class = BulkRunSerializer
    write_roles = CAN_LAUNCH
    http_method_names = ["get", "post", "head", "options"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_class = BulkRunFilter
    ordering_fields = ["created_at"]

    def get_serializer_class(self):
        return BulkUploadSerializer if self.action == "create" else BulkRunSerializer

    def create(self, request, *args, **kwargs):
        upload = BulkUploadSerializer(data=request.data, context={"request": request})
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        self.check_organization_role(data["campaign"].organization)
        file = data["file"]
        with service_errors():
            bulk = services.do_create_csv_bulk_run(
                campaign=data["campaign"],
                content_type=data["content_type"],
                user=request.user,
                data=file.read(services.CSV_MAX_BYTES + 1),
                source_name=file.name or "",
                num_candidates=data["num_candidates"],
                params=data["params"],
            )
        bulk = self.get_queryset().get(pk=bulk.pk)
        return Response(BulkRunSerializer(bulk).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["generation"],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
        description="Every candidate of the run as CSV (one row per candidate).",
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        bulk = self.get_object()
        response = HttpResponse(
            services.bulk_run_candidates_csv(bulk), content_type="text/csv"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="bulk-run-{bulk.pk}-candidates.csv"'
        )
        return response
