"""Template context shared by every page: current organization and permissions."""

from webapp.ui.tenancy import get_tenant


def current_organization(request):
    """Expose the tenant as ``tenant`` (org, role, memberships, can_* flags)."""
    if not hasattr(request, "user"):
        return {}
    return {"tenant": get_tenant(request)}
