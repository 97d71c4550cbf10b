"""Model management pages, mounted at /models/ (namespace "training").

The UI app's own /models/ (list, activate) is matched after these, so the
two sets of paths must not overlap: none here is empty or <pk>/activate/.
"""

from django.urls import path

from webapp.training import views

app_name = "training"
urlpatterns = [
    path("<int:pk>/", views.version_detail, name="version_detail"),
    path("<int:pk>/make-active/", views.version_activate, name="version_activate"),
    path("<int:pk>/archive/", views.version_archive, name="version_archive"),
    path("<int:pk>/restore/", views.version_restore, name="version_restore"),
    path("rollback/", views.rollback, name="rollback"),
    path("upload/", views.upload, name="upload"),
    path("compare/", views.compare, name="compare"),
    path("comparisons/<int:pk>/", views.comparison, name="comparison"),
    path("training/", views.training, name="training"),
    path("training/policy/", views.retraining_policy, name="policy"),
    path("training/<int:pk>/", views.job_detail, name="job_detail"),
    path("training/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("training/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("feedback/", views.feedback, name="feedback"),
    path("feedback/<str:fmt>.jsonl", views.feedback_download, name="feedback_download"),
]
