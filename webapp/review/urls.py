"""API paths of this app that are not router viewsets (mounted under /api/v1/)."""

from django.urls import path

from webapp.review.api import ApprovedExportView, MoreLikeThisView

urlpatterns = [
    path(
        "exports/approved/",
        ApprovedExportView.as_view(),
        name="api-export-approved",
    ),
    path("more-like-this/", MoreLikeThisView.as_view(), name="api-more-like-this"),
]
