"""The dashboard: what is running, what waits for review, what got approved."""

from datetime import timedelta

from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.generation.models import Candidate, CandidateStatus, GenerationJob
from webapp.ui.tenancy import member_required


@member_required
def dashboard(request):
    """Four queries after the tenant's two: campaigns, jobs, counts, waiting."""
    org = request.tenant.organization
    active_campaigns = (
        Campaign.objects.filter(organization=org, status=CampaignStatus.ACTIVE)
        .annotate(
            awaiting=Count(
                "candidates", filter=Q(candidates__status=CandidateStatus.NEW)
            ),
            approved=Count(
                "candidates", filter=Q(candidates__status=CandidateStatus.APPROVED)
            ),
        )
        .order_by("-updated_at", "-id")[:8]
    )
    recent_jobs = (
        GenerationJob.objects.filter(organization=org)
        .select_related("campaign", "created_by")
        .order_by("-queued_at", "-id")[:10]
    )
    week_ago = timezone.now() - timedelta(days=7)
    counts = Candidate.objects.filter(organization=org).aggregate(
        awaiting=Count("id", filter=Q(status=CandidateStatus.NEW)),
        approved=Count("id", filter=Q(status=CandidateStatus.APPROVED)),
        rejected=Count("id", filter=Q(status=CandidateStatus.REJECTED)),
        approved_week=Count(
            "id",
            filter=Q(status=CandidateStatus.APPROVED, status_changed_at__gte=week_ago),
        ),
    )
    reviewed = counts["approved"] + counts["rejected"]
    counts["approval_rate"] = (
        round(100 * counts["approved"] / reviewed) if reviewed else None
    )
    awaiting = (
        Candidate.objects.filter(organization=org, status=CandidateStatus.NEW)
        .select_related("campaign")
        .order_by("-created_at", "-id")[:6]
    )
    return render(
        request,
        "ui/dashboard.html",
        {
            "active_campaigns": active_campaigns,
            "recent_jobs": recent_jobs,
            "counts": counts,
            "awaiting": awaiting,
        },
    )
