"""Model versions for admins: list with metrics, activate for the organization."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.accounts.models import CAN_MANAGE
from webapp.models_registry.models import ModelActivation
from webapp.models_registry.services import (
    active_version_for,
    do_activate_version,
    versions_visible_to,
)
from webapp.ui.tenancy import role_required
from webapp.ui.views.common import paginate


def _metric_rows(metrics: dict) -> list[tuple[str, str]]:
    """Flat (name, value) pairs; floats rounded so the table stays readable."""
    rows = []
    for key, value in sorted((metrics or {}).items()):
        if isinstance(value, float):
            value = f"{value:.4g}"
        elif isinstance(value, dict | list):
            continue
        rows.append((key, str(value)))
    return rows


@role_required(CAN_MANAGE)
def model_list(request):
    org = request.tenant.organization
    versions = versions_visible_to(org).select_related("parent", "organization")
    page = paginate(request, versions.order_by("-created_at", "-id"))
    for version in page:
        version.metric_rows = _metric_rows(version.metrics)
    active = active_version_for(org)
    history = (
        ModelActivation.objects.filter(organization=org)
        .select_related("version", "activated_by")
        .order_by("-activated_at", "-id")[:10]
    )
    return render(
        request,
        "ui/model_list.html",
        {"page": page, "active": active, "history": history},
    )


@role_required(CAN_MANAGE)
@require_POST
def model_activate(request, pk):
    org = request.tenant.organization
    version = versions_visible_to(org).filter(pk=pk).first()
    if version is None:
        return render(request, "404.html", status=404)
    try:
        do_activate_version(version, org, request.user, note="activated in the UI")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{version.name} now generates for {org.name}.")
    return redirect("ui:model_list")
