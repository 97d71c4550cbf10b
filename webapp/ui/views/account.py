"""Sign in/out, organization switcher and profile."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from webapp.ui.forms import ProfileForm
from webapp.ui.tenancy import get_tenant


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot sign someone out by surprise."""


def _safe_next(request, fallback: str = "ui:dashboard"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@login_required
@require_POST
def switch_organization(request):
    """Make another of the user's organizations the current one."""
    tenant = get_tenant(request)
    try:
        wanted = int(request.POST.get("organization", ""))
    except ValueError:
        return HttpResponseBadRequest("organization must be an organization id")
    membership = next(
        (m for m in tenant.memberships if m.organization_id == wanted), None
    )
    if membership is None:
        # Not one of the user's organizations: same answer as a missing one.
        return render(request, "404.html", status=404)
    tenant.profile.current_organization = membership.organization
    tenant.profile.save(update_fields=["current_organization"])
    messages.success(request, f"Now working in {membership.organization.name}.")
    target = _safe_next(request)
    # Object pages of the previous organization would be 404 now.
    if target != "ui:dashboard" and any(ch.isdigit() for ch in target.split("?")[0]):
        target = "ui:dashboard"
    return redirect(target)


@login_required
def profile(request):
    tenant = get_tenant(request)
    form = ProfileForm(request.POST or None, instance=tenant.profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Profile saved.")
        return redirect("ui:profile")
    return render(request, "ui/profile.html", {"form": form})
