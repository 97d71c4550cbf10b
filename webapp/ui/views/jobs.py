"""Generate page, job page with live progress, and cancelling a job."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.accounts.models import CAN_LAUNCH
from webapp.campaigns.models import Campaign
from webapp.generation.models import GenerationJob
from webapp.generation.presets import PRESETS, default_max_new_tokens
from webapp.generation.services import do_cancel_job, do_launch_job
from webapp.models_registry.services import active_version_for
from webapp.review.services import with_feedback
from webapp.ui.forms import GenerateForm
from webapp.ui.tenancy import get_for_org, member_required, role_required
from webapp.ui.views.common import save_with_service

# How often the job page asks for progress, in milliseconds.
POLL_MS = 1000


@role_required(CAN_LAUNCH)
def generate(request, pk):
    org = request.tenant.organization
    campaign = get_for_org(
        Campaign.objects.select_related("brand_voice", "organization"), org, pk=pk
    )
    form = GenerateForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        job = save_with_service(
            form,
            lambda data: do_launch_job(
                campaign=campaign,
                content_type=data["content_type"],
                user=request.user,
                num_candidates=data["num_candidates"],
                params=data["params"],
                persona=data["persona"],
                per_persona=data["per_persona"],
            ),
        )
        if job is not None:
            messages.success(request, f"Job {job.pk} queued.")
            return redirect("ui:job_detail", pk=job.pk)
    return render(
        request,
        "ui/generate.html",
        {
            "campaign": campaign,
            "form": form,
            "presets": PRESETS,
            "model_version": active_version_for(org),
            "token_defaults": {
                ct: default_max_new_tokens(ct) for ct in campaign.content_types
            },
        },
    )


def _job_for(request, pk) -> GenerationJob:
    return get_for_org(
        GenerationJob.objects.select_related(
            "campaign", "persona", "model_version", "created_by"
        ),
        request.tenant.organization,
        pk=pk,
    )


@member_required
def job_detail(request, pk):
    job = _job_for(request, pk)
    candidates = None
    if job.is_finished:
        candidates = (
            with_feedback(job.candidates.all(), request.user)
            .select_related("campaign", "persona")
            .order_by("-score", "index")
        )
    return render(
        request,
        "ui/job_detail.html",
        {"job": job, "candidates": candidates, "poll_ms": POLL_MS},
    )


@member_required
def job_progress(request, pk):
    """Progress as JSON (``Accept: application/json``) or an htmx fragment.

    The fragment polls itself until the job finishes; then it answers with
    ``HX-Refresh`` so the page reloads once and shows the candidates.
    """
    job = _job_for(request, pk)
    done = job.candidates.count()
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "id": job.pk,
                "status": job.status,
                "progress": job.progress,
                "message": job.progress_message,
                "error": job.error_message,
                "candidates": done,
                "total": job.total_candidates,
                "finished": job.is_finished,
            }
        )
    response = render(
        request,
        "ui/_job_progress.html",
        {"job": job, "done": done, "poll_ms": POLL_MS},
    )
    if job.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@role_required(CAN_LAUNCH)
@require_POST
def job_cancel(request, pk):
    job = _job_for(request, pk)
    if job.is_finished:
        messages.warning(request, f"Job {job.pk} already finished.")
    else:
        try:
            do_cancel_job(job, request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Cancelling job {job.pk}; finished copy stays.")
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect("ui:job_detail", pk=job.pk)
