"""Review feedback in the Django admin: read-mostly, it is the training record."""

from django.contrib import admin

from webapp.review.models import Rating, RatingEvent, ReviewDecision, Revision


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["candidate", "user", "stars", "updated_at"]
    list_filter = ["stars"]
    search_fields = ["user__username", "candidate__text"]
    raw_id_fields = ["candidate", "user"]


@admin.register(RatingEvent)
class RatingEventAdmin(admin.ModelAdmin):
    list_display = ["candidate", "user", "previous_stars", "stars", "created_at"]
    raw_id_fields = ["rating", "candidate", "user"]


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["candidate", "user", "created_at"]
    search_fields = ["text", "user__username"]
    raw_id_fields = ["candidate", "user"]


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(admin.ModelAdmin):
    list_display = ["candidate", "user", "decision", "created_at"]
    list_filter = ["decision"]
    search_fields = ["note", "user__username"]
    raw_id_fields = ["candidate", "user"]
