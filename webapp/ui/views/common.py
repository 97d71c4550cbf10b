"""Small helpers shared by the page views."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction

PAGE_SIZE = 25


def save_with_service(form, write: Callable[[dict], object]):
    """Run a ``do_*`` service with the form's cleaned data.

    The service validates again (it is also what the API and tasks use); its
    errors go next to the fields they name, or to the top of the form, and
    nothing is saved. Returns the saved object, or None when it was refused.
    """
    try:
        with transaction.atomic():
            return write(form.cleaned_data)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
        return None


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """The page of ``queryset`` named by ?page= (out-of-range gives the last)."""
    paginator = Paginator(queryset, per_page)
    return paginator.get_page(request.GET.get("page"))


def querystring_without(request, *names: str) -> str:
    """The current query string minus ``names`` (for pagination links)."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()
