"""Browser UI pages, mounted at / (namespace "ui")."""

from django.urls import path

from webapp.ui.views import account, brand, campaigns, dashboard, jobs, models, review

app_name = "ui"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", account.LogoutView.as_view(), name="logout"),
    path("profile/", account.profile, name="profile"),
    path(
        "organization/switch/",
        account.switch_organization,
        name="switch_organization",
    ),
    # Campaigns
    path("campaigns/", campaigns.campaign_list, name="campaign_list"),
    path("campaigns/new/", campaigns.campaign_edit, name="campaign_create"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/generate/", jobs.generate, name="generate"),
    # Brand voices and personas
    path("brand-voices/", brand.brandvoice_list, name="brandvoice_list"),
    path("brand-voices/new/", brand.brandvoice_edit, name="brandvoice_create"),
    path("brand-voices/<int:pk>/", brand.brandvoice_edit, name="brandvoice_edit"),
    path(
        "brand-voices/<int:pk>/delete/",
        brand.brandvoice_delete,
        name="brandvoice_delete",
    ),
    path("personas/", brand.persona_list, name="persona_list"),
    path("personas/new/", brand.persona_edit, name="persona_create"),
    path("personas/<int:pk>/", brand.persona_edit, name="persona_edit"),
    path("personas/<int:pk>/delete/", brand.persona_delete, name="persona_delete"),
    # Jobs
    path("jobs/<int:pk>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:pk>/progress/", jobs.job_progress, name="job_progress"),
    path("jobs/<int:pk>/cancel/", jobs.job_cancel, name="job_cancel"),
    # Review board
    path("review/", review.review_board, name="review_board"),
    path("review/compare/", review.compare, name="compare"),
    path("review/bulk/", review.bulk_decide, name="review_bulk"),
    path("review/export/", review.export_approved, name="review_export"),
    path("candidates/<int:pk>/", review.candidate_card, name="candidate_card"),
    path("candidates/<int:pk>/rate/", review.rate, name="candidate_rate"),
    path("candidates/<int:pk>/decide/", review.decide, name="candidate_decide"),
    path("candidates/<int:pk>/revise/", review.revise, name="candidate_revise"),
    path(
        "candidates/<int:pk>/more-like-this/",
        review.more_like_this,
        name="candidate_more",
    ),
    # Model versions (admins)
    path("models/", models.model_list, name="model_list"),
    path("models/<int:pk>/activate/", models.model_activate, name="model_activate"),
]
