"""Reviewers' feedback on candidates: ratings, revisions and decisions.

These rows are the fine-tuning data of the next model version, so nothing is
overwritten: a changed rating keeps its earlier values as RatingEvent rows, an
edit is a new Revision (the candidate's generated text never changes), and every
approve/reject is its own ReviewDecision (the newest sets Candidate.status).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

MIN_STARS, MAX_STARS = 1, 5
# Longest text a reviewer may save; video scripts are the longest content type.
MAX_REVISION_CHARS = 4000
MAX_NOTE_CHARS = 500
# Most candidates one bulk approve/reject may touch (one page of the board is 50).
MAX_BULK = 200


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class Rating(models.Model):
    """A user's current 1-5 stars for a candidate (one per user and candidate)."""

    candidate = models.ForeignKey(
        "generation.Candidate", on_delete=models.CASCADE, related_name="ratings"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="candidate_ratings",
    )
    stars = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_STARS), MaxValueValidator(MAX_STARS)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "user"], name="unique_rating_per_user"
            ),
            models.CheckConstraint(
                condition=models.Q(stars__gte=MIN_STARS, stars__lte=MAX_STARS),
                name="rating_stars_1_to_5",
            ),
        ]
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.stars}★ by {self.user_id} on candidate {self.candidate_id}"


class RatingEvent(models.Model):
    """Every rating given, in order; the history a Rating row alone would lose."""

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="events")
    candidate = models.ForeignKey(
        "generation.Candidate", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    stars = models.PositiveSmallIntegerField()
    previous_stars = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.previous_stars}→{self.stars} on candidate {self.candidate_id}"


class Revision(models.Model):
    """One edit of a candidate's text; the newest is the text that ships."""

    candidate = models.ForeignKey(
        "generation.Candidate", on_delete=models.CASCADE, related_name="revisions"
    )
    # SET_NULL: removing a user must not remove the edits they made.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="candidate_revisions",
    )
    text = models.TextField(max_length=MAX_REVISION_CHARS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["candidate", "-created_at"])]

    def __str__(self) -> str:
        return f"revision {self.pk} of candidate {self.candidate_id}"


class ReviewDecision(models.Model):
    """One approve or reject, with who, when and why."""

    candidate = models.ForeignKey(
        "generation.Candidate", on_delete=models.CASCADE, related_name="decisions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="review_decisions",
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    note = models.CharField(max_length=MAX_NOTE_CHARS, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["candidate", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.decision} of candidate {self.candidate_id}"
