"""API paths of this app that are not router viewsets (mounted under /api/v1/)."""

from django.urls import path

from webapp.accounts.views import me_view, token_view

urlpatterns = [
    path("auth/token/", token_view, name="api-token"),
    path("me/", me_view, name="api-me"),
]
