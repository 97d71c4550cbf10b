"""API paths of this app that are not router viewsets (mounted under /api/v1/)."""

from django.urls import path

from webapp.training.api import FeedbackCardView, FeedbackExportView

urlpatterns = [
    path("feedback/export/", FeedbackExportView.as_view(), name="api-feedback-export"),
    path("feedback/card/", FeedbackCardView.as_view(), name="api-feedback-card"),
]
