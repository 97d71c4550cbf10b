"""API of review feedback: ratings, revisions, decisions (+ bulk), exports.

Same rules as the browser UI and the rest of the API: reads need membership
(another organization's rows are 404 or simply absent), writes need the admin
or editor role in the candidate's organization (else 403), and every write goes
through webapp.review.services.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts.api_base import (
    IdFilter,
    OrganizationRolePermission,
    ScopedPrimaryKeyRelatedField,
    StandardPagination,
    member_organization_ids,
    service_errors,
)
from webapp.accounts.models import CAN_REVIEW
from webapp.campaigns.models import Campaign
from webapp.generation.models import Candidate
from webapp.review import exports, services
from webapp.review.models import (
    MAX_BULK,
    MAX_NOTE_CHARS,
    MAX_REVISION_CHARS,
    MAX_STARS,
    MIN_STARS,
    Decision,
    Rating,
    RatingEvent,
    ReviewDecision,
    Revision,
)


class CandidateField(ScopedPrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Candidate.objects.all())
        kwargs.setdefault(
            "help_text", "Id of a candidate in one of your organizations."
        )
        super().__init__(**kwargs)


class RatingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = RatingEvent
        fields = ["stars", "previous_stars", "created_at"]


class RatingSerializer(serializers.ModelSerializer):
    candidate = CandidateField()
    stars = serializers.IntegerField(min_value=MIN_STARS, max_value=MAX_STARS)
    user = serializers.CharField(source="user.get_username", read_only=True)
    history = RatingEventSerializer(source="events", many=True, read_only=True)

    class Meta:
        model = Rating
        fields = [
            "id",
            "candidate",
            "user",
            "stars",
            "created_at",
            "updated_at",
            "history",
        ]
        read_only_fields = ["created_at", "updated_at"]


class RevisionSerializer(serializers.ModelSerializer):
    candidate = CandidateField()
    text = serializers.CharField(max_length=MAX_REVISION_CHARS, trim_whitespace=True)
    user = serializers.CharField(
        source="user.get_username", read_only=True, allow_null=True
    )

    class Meta:
        model = Revision
        fields = ["id", "candidate", "user", "text", "created_at"]
        read_only_fields = ["created_at"]


class DecisionSerializer(serializers.ModelSerializer):
    candidate = CandidateField()
    decision = serializers.ChoiceField(choices=Decision.choices)
    note = serializers.CharField(
        max_length=MAX_NOTE_CHARS, required=False, allow_blank=True, default=""
    )
    user = serializers.CharField(
        source="user.get_username", read_only=True, allow_null=True
    )
    candidate_status = serializers.CharField(source="candidate.status", read_only=True)

    class Meta:
        model = ReviewDecision
        fields = [
            "id",
            "candidate",
            "user",
            "decision",
            "note",
            "created_at",
            "candidate_status",
        ]
        read_only_fields = ["created_at"]


class BulkDecisionSerializer(serializers.Serializer):
    candidates = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=MAX_BULK,
        help_text=f"Ids of 1 to {MAX_BULK} candidates of one organization.",
    )
    decision = serializers.ChoiceField(choices=Decision.choices)
    note = serializers.CharField(
        max_length=MAX_NOTE_CHARS, required=False, allow_blank=True, default=""
    )

    def validate_candidates(self, ids):
        ids = list(dict.fromkeys(ids))
        user = self.context["request"].user
        found = list(
            Candidate.objects.filter(
                pk__in=ids, organization__in=member_organization_ids(user)
            )
        )
        missing = sorted(set(ids) - {c.pk for c in found})
        if missing:
            raise serializers.ValidationError(
                "no candidate with id "
                + ", ".join(str(i) for i in missing)
                + " in your organizations"
            )
        return found


class BulkDecisionResultSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    count = serializers.IntegerField()
    candidates = serializers.ListField(child=serializers.IntegerField())


class FeedbackFilter(django_filters.FilterSet):
    candidate = IdFilter(field_name="candidate")
    campaign = IdFilter(field_name="candidate__campaign")
    job = IdFilter(field_name="candidate__job")
    organization = IdFilter(field_name="candidate__organization")


class RatingFilter(FeedbackFilter):
    class Meta:
        model = Rating
        fields = ["candidate", "campaign", "job", "organization", "stars"]


class RevisionFilter(FeedbackFilter):
    class Meta:
        model = Revision
        fields = ["candidate", "campaign", "job", "organization"]


class DecisionFilter(FeedbackFilter):
    class Meta:
        model = ReviewDecision
        fields = ["candidate", "campaign", "job", "organization", "decision"]


class FeedbackViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Read feedback of your organizations; create it where you review.

    Rows are never edited or deleted through the API: they are the record of
    what reviewers said (a rating is changed by posting it again).
    """

    permission_classes = [IsAuthenticated, OrganizationRolePermission]
    pagination_class = StandardPagination
    write_roles = CAN_REVIEW
    ordering_fields = ["created_at"]

    def get_write_roles(self):
        return self.write_roles

    def organization_id_of(self, obj) -> int:
        return obj.candidate.organization_id

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False) or not user.is_authenticated:
            return queryset.none()
        return queryset.filter(
            candidate__organization__in=member_organization_ids(user)
        ).select_related("candidate", "user")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            instance = self.write(serializer.validated_data)
        return Response(
            self.get_serializer(instance).data, status=status.HTTP_201_CREATED
        )

    def write(self, data: dict):
        raise NotImplementedError


TAGS = ["review"]


@extend_schema_view(
    list=extend_schema(tags=TAGS),
    retrieve=extend_schema(tags=TAGS),
    create=extend_schema(
        tags=TAGS,
        description="Set your stars for a candidate; posting again changes them "
        "(the earlier value stays in history).",
    ),
)
class RatingViewSet(FeedbackViewSet):
    queryset = Rating.objects.prefetch_related("events").order_by("-updated_at", "-id")
    serializer_class = RatingSerializer
    filterset_class = RatingFilter
    ordering_fields = ["created_at", "updated_at", "stars"]

    def write(self, data):
        return services.do_rate(data["candidate"], self.request.user, data["stars"])


@extend_schema_view(
    list=extend_schema(tags=TAGS),
    retrieve=extend_schema(tags=TAGS),
    create=extend_schema(
        tags=TAGS,
        description="Save an edit of a candidate's text as a new revision; the "
        "generated text stays unchanged.",
    ),
)
class RevisionViewSet(FeedbackViewSet):
    queryset = Revision.objects.order_by("-created_at", "-id")
    serializer_class = RevisionSerializer
    filterset_class = RevisionFilter

    def write(self, data):
        return services.do_revise(data["candidate"], self.request.user, data["text"])


@extend_schema_view(
    list=extend_schema(tags=TAGS),
    retrieve=extend_schema(tags=TAGS),
    create=extend_schema(
        tags=TAGS,
        description="Approve or reject a candidate; the newest decision is its status.",
    ),
)
class DecisionViewSet(FeedbackViewSet):
    queryset = ReviewDecision.objects.order_by("-created_at", "-id")
    serializer_class = DecisionSerializer
    filterset_class = DecisionFilter

    def write(self, data):
        return services.do_decide(
            data["candidate"], self.request.user, data["decision"], data["note"]
        )

    @extend_schema(
        tags=TAGS,
        request=BulkDecisionSerializer,
        responses={200: BulkDecisionResultSerializer},
        description=f"Approve or reject up to {MAX_BULK} candidates of one "
        "organization at once; all or none are recorded.",
    )
    @action(detail=False, methods=["post"], serializer_class=BulkDecisionSerializer)
    def bulk(self, request):
        serializer = BulkDecisionSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors():
            services.do_bulk_decide(
                data["candidates"], request.user, data["decision"], data["note"]
            )
        return Response(
            {
                "decision": data["decision"],
                "count": len(data["candidates"]),
                "candidates": sorted(c.pk for c in data["candidates"]),
            }
        )


class MoreLikeThisSerializer(serializers.Serializer):
    candidate = CandidateField()
    num_candidates = serializers.IntegerField(min_value=1, max_value=50, default=8)


class MoreLikeThisView(APIView):
    """Launch a job seeded from a candidate (admins and marketers)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        request=MoreLikeThisSerializer,
        responses={201: OpenApiResponse(description="{'job': id}")},
    )
    def post(self, request):
        serializer = MoreLikeThisSerializer(
            data=request.data, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors():
            job = services.do_more_like_this(
                data["candidate"], request.user, data["num_candidates"]
            )
        return Response({"job": job.pk}, status=status.HTTP_201_CREATED)


class CSVRenderer(renderers.BaseRenderer):
    """Only selects ?format=csv; the export view writes the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Reached only for error responses, which are small JSON objects.
        return renderers.JSONRenderer().render(data)


class ApprovedExportView(APIView):
    """Approved copy (newest revision's text) of your organizations."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [renderers.JSONRenderer, CSVRenderer]

    @extend_schema(
        tags=TAGS,
        parameters=[
            OpenApiParameter("campaign", OpenApiTypes.INT, description="One campaign."),
            OpenApiParameter(
                "organization", OpenApiTypes.INT, description="One organization."
            ),
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=["csv", "json"], description="csv"
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
        },
    )
    def get(self, request):
        fmt = request.query_params.get("format", "csv")
        if fmt not in ("csv", "json"):
            raise serializers.ValidationError(
                {"format": [f"format must be csv or json, got {fmt!r}"]}
            )
        org_ids = set(
            member_organization_ids(request.user).values_list(
                "organization_id", flat=True
            )
        )
        name = "approved"
        organization = request.query_params.get("organization")
        if organization is not None:
            if not organization.isdigit():
                raise serializers.ValidationError(
                    {"organization": [f"expected an id, got {organization!r}"]}
                )
            if int(organization) not in org_ids:
                raise Http404("no such organization")
            org_ids = {int(organization)}
            name += f"-org-{organization}"
        campaign_id = request.query_params.get("campaign")
        if campaign_id is not None:
            if not campaign_id.isdigit():
                raise serializers.ValidationError(
                    {"campaign": [f"expected an id, got {campaign_id!r}"]}
                )
            if not Campaign.objects.filter(
                pk=campaign_id, organization_id__in=org_ids
            ).exists():
                raise Http404("no such campaign")
            campaign_id = int(campaign_id)
            name += f"-campaign-{campaign_id}"
        rows = exports.export_rows(
            services.approved_copy(org_ids, campaign_id=campaign_id)
        )
        if fmt == "json":
            return exports.json_response(rows, name)
        return exports.csv_response(rows, name)

    def perform_content_negotiation(self, request, force=False):
        # ?format=xml gets the 400 above, not DRF's bare 404.
        return super().perform_content_negotiation(request, force=True)
