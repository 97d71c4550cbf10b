"""Model management pages (admins): versions, training, comparisons, export.

Every page needs the admin role in the current organization (else 403);
another organization's version, job or comparison is 404. Writes go through
webapp.training.services, like the API's.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.accounts.models import CAN_MANAGE
from webapp.models_registry.services import active_version_for, versions_visible_to
from webapp.training import charts, services
from webapp.training.dataset import FORMATS, build_dataset, clean_options
from webapp.training.forms import (
    CompareForm,
    DatasetFilterForm,
    LaunchTrainingForm,
    RetrainingPolicyForm,
    UploadForm,
)
from webapp.training.models import ModelComparison, RetrainingPolicy, TrainingJob
from webapp.ui.tenancy import role_required
from webapp.ui.views.common import paginate

POLL_MS = 1500


def _version(request, pk):
    version = (
        versions_visible_to(request.tenant.organization)
        .select_related("parent", "organization", "created_by")
        .filter(pk=pk)
        .first()
    )
    if version is None:
        raise Http404("No such model version in this organization.")
    return version


def _errors(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _service(request, write, success: str) -> bool:
    try:
        write()
    except ValidationError as exc:
        _errors(request, exc)
        return False
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, success)
    return True


@role_required(CAN_MANAGE)
def version_detail(request, pk):
    org = request.tenant.organization
    version = _version(request, pk)
    active = active_version_for(org)
    job = TrainingJob.objects.filter(resulting_version=version).first()
    stats = services.rating_stats(version, org)
    curve = (version.metadata or {}).get("loss_curve") or (
        job.loss_curve if job else []
    )
    metrics = sorted(
        (k, v)
        for k, v in (version.metrics or {}).items()
        if isinstance(v, int | float | str) and not isinstance(v, bool)
    )
    return render(
        request,
        "training/version_detail.html",
        {
            "version": version,
            "active": active,
            "is_active": active is not None and active.pk == version.pk,
            "lineage": services.lineage(version, org),
            "metrics": metrics,
            "job": job,
            "card": job.data_card if job else None,
            "loss_chart": charts.loss_chart(curve),
            "stats": stats,
            "rating_chart": charts.rating_chart(stats.by_day),
            "history": services.history(version, org),
            "rollback_target": services.rollback_target(org)
            if active is not None and active.pk == version.pk
            else None,
            "children": versions_visible_to(org).filter(parent=version),
        },
    )


@role_required(CAN_MANAGE)
@require_POST
def version_activate(request, pk):
    org = request.tenant.organization
    version = _version(request, pk)
    _service(
        request,
        lambda: services.do_activate(version, org, request.user, "activated in the UI"),
        f"{version.name} now generates for {org.name}.",
    )
    return redirect("training:version_detail", pk=version.pk)


@role_required(CAN_MANAGE)
@require_POST
def version_archive(request, pk):
    org = request.tenant.organization
    version = _version(request, pk)
    _service(
        request,
        lambda: services.do_archive(version, org, request.user),
        f"{version.name} is archived.",
    )
    return redirect("training:version_detail", pk=version.pk)


@role_required(CAN_MANAGE)
@require_POST
def version_restore(request, pk):
    org = request.tenant.organization
    version = _version(request, pk)
    _service(
        request,
        lambda: services.do_restore(version, org, request.user),
        f"{version.name} is ready again.",
    )
    return redirect("training:version_detail", pk=version.pk)


@role_required(CAN_MANAGE)
@require_POST
def rollback(request):
    org = request.tenant.organization
    result = {}

    def write():
        result["activation"] = services.do_rollback(org, request.user)

    if _service(request, write, "Rolled back."):
        version = result["activation"].version
        messages.info(request, f"{version.name} generates for {org.name} again.")
        return redirect("training:version_detail", pk=version.pk)
    return redirect("ui:model_list")


@role_required(CAN_MANAGE)
def upload(request):
    org = request.tenant.organization
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.do_upload_checkpoint(
                organization=org,
                user=request.user,
                upload=form.cleaned_data["file"],
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                f"{version.name} is registered; compare it and activate it when ready.",
            )
            return redirect("training:version_detail", pk=version.pk)
    return render(
        request,
        "training/upload.html",
        {"form": form, "max_bytes": settings.MODEL_UPLOAD_MAX_BYTES},
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------- training


@role_required(CAN_MANAGE)
def training(request):
    org = request.tenant.organization
    form = LaunchTrainingForm(request.POST or None, organization=org)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.do_launch_training(
                organization=org,
                user=request.user,
                base_version=form.cleaned_data["base_version"],
                options=form.training_options(),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    name = field.removeprefix("dataset.")
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, f"Training job {job.pk} is queued.")
            return redirect("training:job_detail", pk=job.pk)
    policy = RetrainingPolicy.objects.filter(organization=org).first()
    policy_form = RetrainingPolicyForm(
        initial={
            "enabled": policy.enabled if policy else False,
            "min_new_feedback": policy.min_new_feedback if policy else 50,
        }
    )
    jobs = TrainingJob.objects.filter(organization=org).select_related(
        "base_version", "resulting_version", "created_by"
    )
    return render(
        request,
        "training/training.html",
        {
            "form": form,
            "page": paginate(request, jobs),
            "policy": policy,
            "policy_form": policy_form,
            "new_feedback": services.new_feedback_count(org),
            "active": active_version_for(org),
        },
        status=400 if form.errors else 200,
    )


@role_required(CAN_MANAGE)
@require_POST
def retraining_policy(request):
    org = request.tenant.organization
    form = RetrainingPolicyForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
        )
        return redirect("training:training")
    existing = RetrainingPolicy.objects.filter(organization=org).first()
    _service(
        request,
        lambda: services.do_set_retraining_policy(
            org,
            request.user,
            enabled=form.cleaned_data["enabled"],
            min_new_feedback=form.cleaned_data["min_new_feedback"],
            options=existing.options if existing else None,
        ),
        "Retraining policy saved.",
    )
    return redirect("training:training")


def _job(request, pk) -> TrainingJob:
    job = (
        TrainingJob.objects.select_related(
            "base_version", "resulting_version", "created_by"
        )
        .filter(organization=request.tenant.organization, pk=pk)
        .first()
    )
    if job is None:
        raise Http404("No such training job in this organization.")
    return job


@role_required(CAN_MANAGE)
def job_detail(request, pk):
    job = _job(request, pk)
    return render(
        request,
        "training/job_detail.html",
        {
            "job": job,
            "poll_ms": POLL_MS,
            "loss_chart": charts.loss_chart(job.loss_curve),
        },
    )


@role_required(CAN_MANAGE)
def job_progress(request, pk):
    """Progress as JSON (Accept: application/json) or the htmx fragment."""
    job = _job(request, pk)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "id": job.pk,
                "status": job.status,
                "progress": job.progress,
                "message": job.progress_message,
                "error": job.error_message,
                "finished": job.is_finished,
                "resulting_version": job.resulting_version_id,
            }
        )
    response = render(
        request,
        "training/_job_progress.html",
        {
            "job": job,
            "poll_ms": POLL_MS,
            "loss_chart": charts.loss_chart(job.loss_curve),
        },
    )
    if job.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@role_required(CAN_MANAGE)
@require_POST
def job_cancel(request, pk):
    job = _job(request, pk)
    _service(
        request,
        lambda: services.do_cancel_training(job, request.user),
        f"Training job {job.pk} is being cancelled.",
    )
    return redirect("training:job_detail", pk=job.pk)


# ---------------------------------------------------------------- comparing


@role_required(CAN_MANAGE)
def compare(request):
    org = request.tenant.organization
    initial = {}
    for key in ("version_a", "version_b"):
        if request.GET.get(key, "").isdigit():
            initial[key] = int(request.GET[key])
    form = CompareForm(request.POST or None, organization=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            comparison = services.do_compare(
                organization=org,
                user=request.user,
                version_a=data["version_a"],
                version_b=data["version_b"],
                campaign=data["campaign"],
                content_type=data["content_type"],
                num_candidates=data["num_candidates"],
                seed=data["seed"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            return redirect("training:comparison", pk=comparison.pk)
    recent = ModelComparison.objects.filter(organization=org).select_related(
        "version_a", "version_b", "campaign"
    )[:10]
    return render(
        request,
        "training/compare.html",
        {"form": form, "recent": recent},
        status=400 if form.errors else 200,
    )


@role_required(CAN_MANAGE)
def comparison(request, pk):
    org = request.tenant.organization
    item = (
        ModelComparison.objects.select_related(
            "version_a", "version_b", "campaign", "job_a", "job_b"
        )
        .filter(organization=org, pk=pk)
        .first()
    )
    if item is None:
        raise Http404("No such comparison in this organization.")
    rows = services.comparison_rows(item)
    finished = item.job_a.is_finished and item.job_b.is_finished

    def mean(side):
        scores = [row[side].score for row in rows if row[side] is not None]
        return sum(scores) / len(scores) if scores else None

    template = (
        "training/_comparison_rows.html"
        if request.headers.get("HX-Request")
        else "training/comparison.html"
    )
    return render(
        request,
        template,
        {
            "item": item,
            "rows": rows,
            "finished": finished,
            "mean_a": mean("a"),
            "mean_b": mean("b"),
            "poll_ms": POLL_MS,
        },
    )


# ---------------------------------------------------------------- export


@role_required(CAN_MANAGE)
def feedback(request):
    org = request.tenant.organization
    form = DatasetFilterForm(request.GET or None, organization=org)
    cards = {}
    query = ""
    if not request.GET or form.is_valid():
        options = clean_options(form.dataset_options() if request.GET else {}, org)
        for fmt in FORMATS:
            cards[fmt] = build_dataset(org, fmt, options).card
        query = request.GET.urlencode()
    return render(
        request,
        "training/feedback.html",
        {"form": form, "cards": cards, "query": query},
        status=400 if form.errors else 200,
    )


@role_required(CAN_MANAGE)
def feedback_download(request, fmt):
    org = request.tenant.organization
    if fmt not in FORMATS:
        raise Http404("Unknown dataset format.")
    form = DatasetFilterForm(request.GET or None, organization=org)
    if request.GET and not form.is_valid():
        return HttpResponse(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    options = clean_options(form.dataset_options() if request.GET else {}, org)
    dataset = build_dataset(org, fmt, options)
    response = HttpResponse(
        dataset.text, content_type="application/jsonl; charset=utf-8"
    )
    name = f"{org.slug}-feedback-{fmt}-{dataset.sha256[:8]}.jsonl"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Dataset-SHA256"] = dataset.sha256
    return response
