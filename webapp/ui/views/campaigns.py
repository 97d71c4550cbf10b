"""Campaigns: list with search and filters, create/edit form, detail page."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render

from webapp.accounts.api_base import json_list_contains
from webapp.accounts.models import CAN_EDIT_CONTENT
from webapp.campaigns import services
from webapp.campaigns.models import Campaign
from webapp.generation.models import Candidate, CandidateStatus, GenerationJob
from webapp.review.services import approved_copy
from webapp.ui.forms import CampaignFilterForm, CampaignForm
from webapp.ui.tenancy import get_for_org, member_required, role_required
from webapp.ui.views.common import paginate, querystring_without, save_with_service


def filtered_campaigns(request, organization):
    """The organization's campaigns matching the list page's filters."""
    form = CampaignFilterForm(request.GET or None)
    campaigns = Campaign.objects.filter(organization=organization).select_related(
        "brand_voice", "owner"
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            campaigns = campaigns.filter(
                Q(name__icontains=data["q"]) | Q(product_name__icontains=data["q"])
            )
        if data["status"]:
            campaigns = campaigns.filter(status=data["status"])
        if data["language"]:
            campaigns = campaigns.filter(language=data["language"])
        if data["content_type"]:
            campaigns = campaigns.filter(
                json_list_contains("content_types", data["content_type"])
            )
        if data["mine"]:
            campaigns = campaigns.filter(owner=request.user)
    return form, campaigns.order_by("-updated_at", "-id")


@member_required
def campaign_list(request):
    form, campaigns = filtered_campaigns(request, request.tenant.organization)
    return render(
        request,
        "ui/campaign_list.html",
        {
            "filter_form": form,
            "page": paginate(request, campaigns),
            "querystring": querystring_without(request, "page"),
        },
    )


@role_required(CAN_EDIT_CONTENT)
def campaign_edit(request, pk=None):
    org = request.tenant.organization
    campaign = get_for_org(Campaign.objects, org, pk=pk) if pk else None
    form = CampaignForm(request.POST or None, instance=campaign, organization=org)
    if request.method == "POST" and form.is_valid():

        def write(data):
            data = dict(data)
            personas = list(data.pop("personas"))
            if campaign is None:
                return services.do_create_campaign(
                    org, request.user, personas=personas, **data
                )
            return services.do_update_campaign(campaign, personas=personas, **data)

        saved = save_with_service(form, write)
        if saved is not None:
            messages.success(request, f"Campaign {saved.name} saved.")
            return redirect("ui:campaign_detail", pk=saved.pk)
    return render(
        request, "ui/campaign_form.html", {"form": form, "campaign": campaign}
    )


@member_required
def campaign_detail(request, pk):
    org = request.tenant.organization
    campaign = get_for_org(
        Campaign.objects.select_related("brand_voice", "owner").prefetch_related(
            "personas"
        ),
        org,
        pk=pk,
    )
    jobs = (
        GenerationJob.objects.filter(campaign=campaign)
        .select_related("persona", "created_by", "model_version")
        .order_by("-queued_at", "-id")[:20]
    )
    counts = Candidate.objects.filter(campaign=campaign).aggregate(
        total=Count("id"),
        awaiting=Count("id", filter=Q(status=CandidateStatus.NEW)),
        approved=Count("id", filter=Q(status=CandidateStatus.APPROVED)),
    )
    approved = approved_copy([org.pk], campaign_id=campaign.pk)[:50]
    return render(
        request,
        "ui/campaign_detail.html",
        {"campaign": campaign, "jobs": jobs, "counts": counts, "approved": approved},
    )
