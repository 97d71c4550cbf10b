"""The review board: candidate cards, ratings, edits, decisions, comparison.

Card actions are plain form posts; with htmx they answer with the re-rendered
card (``HX-Request``), without it they redirect back to the board.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from webapp.accounts.models import CAN_LAUNCH, CAN_REVIEW
from webapp.campaigns.models import Campaign, ContentType
from webapp.generation.models import Candidate, CandidateStatus
from webapp.review import exports
from webapp.review.models import MAX_BULK, Decision
from webapp.review.services import (
    approved_copy,
    do_bulk_decide,
    do_decide,
    do_more_like_this,
    do_rate,
    do_revise,
    with_feedback,
)
from webapp.ui.tenancy import member_required, role_required
from webapp.ui.views.common import paginate, querystring_without

CARDS_PER_PAGE = 24
MAX_COMPARE = 6
SORTS = {
    "score": ("Score (best first)", [F("score").desc(), "id"]),
    "-score": ("Score (worst first)", [F("score").asc(), "id"]),
    "rating": (
        "Rating (best first)",
        [F("avg_stars").desc(nulls_last=True), F("score").desc()],
    ),
    "newest": ("Newest first", ["-created_at", "-id"]),
    "status": ("Status", ["status", F("score").desc()]),
    "flags": ("Flagged first", ["-flagged", F("score").desc()]),
}


class BoardFilterForm(forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(), required=False, empty_label="All campaigns"
    )
    job = forms.IntegerField(required=False, min_value=1, label="Job")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *CandidateStatus.choices]
    )
    content_type = forms.ChoiceField(
        required=False,
        label="Content type",
        choices=[("", "Any content type"), *ContentType.choices],
    )
    flagged = forms.ChoiceField(
        required=False,
        label="Safety flags",
        choices=[("", "Flagged or not"), ("yes", "Flagged"), ("no", "Not flagged")],
    )
    min_stars = forms.ChoiceField(
        required=False,
        label="Rating",
        choices=[("", "Any rating")] + [(str(n), f"{n}★ and up") for n in (2, 3, 4, 5)],
    )
    sort = forms.ChoiceField(
        required=False, choices=[(k, v[0]) for k, v in SORTS.items()]
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(
            organization=organization
        ).order_by("name")


def board_queryset(request, form: BoardFilterForm):
    """Candidates of the organization matching the filters, with feedback."""
    org = request.tenant.organization
    queryset = Candidate.objects.filter(organization=org)
    sort = "score"
    if form.is_valid():
        data = form.cleaned_data
        if data["campaign"]:
            queryset = queryset.filter(campaign=data["campaign"])
        if data["job"]:
            queryset = queryset.filter(job_id=data["job"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["content_type"]:
            queryset = queryset.filter(content_type=data["content_type"])
        if data["flagged"]:
            queryset = queryset.filter(flagged=data["flagged"] == "yes")
        sort = data["sort"] or sort
    queryset = with_feedback(queryset, request.user).select_related(
        "campaign", "persona"
    )
    if form.is_valid() and form.cleaned_data["min_stars"]:
        queryset = queryset.filter(avg_stars__gte=int(form.cleaned_data["min_stars"]))
    return queryset.order_by(*SORTS[sort][1])


def _board_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("ui:review_board")


@member_required
def review_board(request):
    form = BoardFilterForm(
        request.GET or None, organization=request.tenant.organization
    )
    page = paginate(request, board_queryset(request, form), CARDS_PER_PAGE)
    return render(
        request,
        "ui/review_board.html",
        {
            "filter_form": form,
            "page": page,
            "querystring": querystring_without(request, "page"),
            "export_query": querystring_without(request, "page", "sort", "format"),
            "next_url": request.get_full_path(),
            "max_bulk": MAX_BULK,
        },
    )


def _candidate(request, pk) -> Candidate:
    candidate = (
        with_feedback(
            Candidate.objects.filter(organization=request.tenant.organization),
            request.user,
        )
        .select_related("campaign", "persona", "job")
        .filter(pk=pk)
        .first()
    )
    if candidate is None:
        from django.http import Http404

        raise Http404("No such candidate in this organization.")
    return candidate


def _card_response(request, pk, error: str = "", status: int = 200):
    """The card again (htmx) or back to the board (plain form post)."""
    if request.headers.get("HX-Request"):
        return render(
            request,
            "ui/_candidate_card.html",
            {
                "c": _candidate(request, pk),
                "selectable": request.POST.get("selectable") == "1",
                "next_url": _board_url(request),
                "error": error,
            },
            status=status,
        )
    if error:
        messages.error(request, error)
    return redirect(_board_url(request) + f"#cand-{pk}")


@member_required
def candidate_card(request, pk):
    """One card on its own (a link target and what htmx swaps in)."""
    return render(
        request,
        "ui/candidate_page.html",
        {"c": _candidate(request, pk), "next_url": request.get_full_path()},
    )


def _act(request, pk, action):
    candidate = _candidate(request, pk)
    try:
        action(candidate)
    except ValidationError as exc:
        return _card_response(request, pk, " ".join(exc.messages), status=400)
    return _card_response(request, pk)


@role_required(CAN_REVIEW)
@require_POST
def rate(request, pk):
    return _act(
        request, pk, lambda c: do_rate(c, request.user, request.POST.get("stars"))
    )


@role_required(CAN_REVIEW)
@require_POST
def decide(request, pk):
    return _act(
        request,
        pk,
        lambda c: do_decide(
            c, request.user, request.POST.get("decision"), request.POST.get("note", "")
        ),
    )


@role_required(CAN_REVIEW)
@require_POST
def revise(request, pk):
    return _act(
        request, pk, lambda c: do_revise(c, request.user, request.POST.get("text", ""))
    )


@role_required(CAN_LAUNCH)
@require_POST
def more_like_this(request, pk):
    candidate = _candidate(request, pk)
    try:
        job = do_more_like_this(candidate, request.user)
    except ValidationError as exc:
        return _card_response(request, pk, " ".join(exc.messages), status=400)
    messages.success(request, f"Job {job.pk} queued: more like candidate {pk}.")
    url = reverse("ui:job_detail", args=[job.pk])
    if request.headers.get("HX-Request"):
        response = render(request, "ui/_empty.html")
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _selected_ids(request) -> list[int]:
    try:
        return sorted({int(v) for v in request.POST.getlist("ids")})
    except ValueError:
        return []


@member_required
@require_POST
def bulk_decide(request):
    """Approve or reject the ticked cards, or open them in the comparison."""
    action = request.POST.get("action", "")
    ids = _selected_ids(request)
    back = _board_url(request)
    if action == "compare":
        if len(ids) < 2:
            messages.error(request, "Tick two or more candidates to compare them.")
            return redirect(back)
        query = "&".join(f"ids={i}" for i in ids[:MAX_COMPARE])
        return redirect(reverse("ui:compare") + "?" + query)
    if action not in Decision.values:
        return HttpResponseBadRequest("action must be approve, reject or compare")
    if request.tenant.role not in CAN_REVIEW:
        raise PermissionDenied("Your role cannot approve or reject copy.")
    candidates = list(
        Candidate.objects.filter(organization=request.tenant.organization, pk__in=ids)
    )
    try:
        do_bulk_decide(candidates, request.user, action, request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        verb = "Approved" if action == Decision.APPROVE else "Rejected"
        messages.success(request, f"{verb} {len(candidates)} candidate(s).")
    return redirect(back)


@member_required
def compare(request):
    try:
        ids = [int(v) for v in request.GET.getlist("ids")][:MAX_COMPARE]
    except ValueError:
        return HttpResponseBadRequest("ids must be candidate ids")
    candidates = list(
        with_feedback(
            Candidate.objects.filter(
                organization=request.tenant.organization, pk__in=ids
            ),
            request.user,
        ).select_related("campaign", "persona", "job", "model_version")
    )
    order = {pk: n for n, pk in enumerate(ids)}
    candidates.sort(key=lambda c: order[c.pk])
    return render(
        request,
        "ui/compare.html",
        {"candidates": candidates, "next_url": request.get_full_path()},
    )


@member_required
def export_approved(request):
    """Approved copy of the current organization (optionally one campaign)."""
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "json"):
        return HttpResponseBadRequest(f"format must be csv or json, got {fmt!r}")
    campaign_id = request.GET.get("campaign") or None
    org = request.tenant.organization
    if campaign_id is not None:
        if not campaign_id.isdigit():
            return HttpResponseBadRequest(
                f"campaign must be a campaign id, got {campaign_id!r}"
            )
        campaign = Campaign.objects.filter(organization=org, pk=campaign_id).first()
        if campaign is None:
            return render(request, "404.html", status=404)
        campaign_id = campaign.pk
    rows = exports.export_rows(approved_copy([org.pk], campaign_id=campaign_id))
    name = f"approved-{org.slug}" + (f"-campaign-{campaign_id}" if campaign_id else "")
    if fmt == "json":
        return exports.json_response(rows, name)
    return exports.csv_response(rows, name)
