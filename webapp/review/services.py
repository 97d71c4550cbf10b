"""Writes and reads of review feedback, shared by the API, the UI and tasks.

Each ``do_*`` checks that the user may review in the candidate's organization
(admins and editors), so no caller can forget it, and records feedback without
overwriting earlier feedback (see models.py for why).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Avg,
    Count,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce

from webapp.accounts.models import CAN_REVIEW
from webapp.accounts.services import role_in
from webapp.generation.models import Candidate, CandidateStatus
from webapp.review.models import (
    MAX_BULK,
    MAX_NOTE_CHARS,
    MAX_REVISION_CHARS,
    MAX_STARS,
    MIN_STARS,
    Decision,
    Rating,
    RatingEvent,
    ReviewDecision,
    Revision,
)

STATUS_OF_DECISION = {
    Decision.APPROVE: CandidateStatus.APPROVED,
    Decision.REJECT: CandidateStatus.REJECTED,
}


def require_reviewer(user: AbstractBaseUser, organization_id: int) -> None:
    """PermissionDenied unless the user is an admin or editor there."""
    role = role_in(user, organization_id)
    if role not in CAN_REVIEW:
        raise PermissionDenied(
            f"reviewing needs the admin or editor role; yours is {role or 'none'}"
        )


def clean_stars(stars: object) -> int:
    if isinstance(stars, str) and stars.strip().isdigit():
        stars = int(stars)
    if isinstance(stars, bool) or not isinstance(stars, int):
        raise ValidationError(
            {"stars": f"stars must be a whole number from 1 to 5, got {stars!r}"}
        )
    if not MIN_STARS <= stars <= MAX_STARS:
        raise ValidationError(
            {"stars": f"stars must be from {MIN_STARS} to {MAX_STARS}, got {stars}"}
        )
    return stars


def clean_note(note: object) -> str:
    note = "" if note is None else note
    if not isinstance(note, str):
        raise ValidationError({"note": f"note must be text, got {note!r}"})
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError(
            {
                "note": f"note is {len(note)} characters long; "
                f"at most {MAX_NOTE_CHARS} allowed"
            }
        )
    return note


def clean_decision(decision: object) -> Decision:
    if decision not in Decision.values:
        raise ValidationError(
            {"decision": f"decision must be approve or reject, got {decision!r}"}
        )
    return Decision(decision)


@transaction.atomic
def do_rate(candidate: Candidate, user: AbstractBaseUser, stars: int) -> Rating:
    """Set the user's stars for a candidate; each change is logged as an event."""
    require_reviewer(user, candidate.organization_id)
    stars = clean_stars(stars)
    rating = (
        Rating.objects.select_for_update()
        .filter(candidate=candidate, user=user)
        .first()
    )
    previous = rating.stars if rating else None
    if rating is None:
        rating = Rating.objects.create(candidate=candidate, user=user, stars=stars)
    elif rating.stars != stars:
        rating.stars = stars
        rating.save(update_fields=["stars", "updated_at"])
    if previous != stars:
        RatingEvent.objects.create(
            rating=rating,
            candidate=candidate,
            user=user,
            stars=stars,
            previous_stars=previous,
        )
    return rating


def current_text(candidate: Candidate) -> str:
    """The newest revision's text, else the generated text."""
    latest = candidate.revisions.order_by("-created_at", "-id").first()
    return latest.text if latest else candidate.text


@transaction.atomic
def do_revise(candidate: Candidate, user: AbstractBaseUser, text: str) -> Revision:
    """Save an edit as a new revision; the generated text stays untouched."""
    require_reviewer(user, candidate.organization_id)
    if not isinstance(text, str):
        raise ValidationError({"text": f"text must be a string, got {text!r}"})
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError({"text": "text is empty; write the edited copy"})
    if len(text) > MAX_REVISION_CHARS:
        raise ValidationError(
            {
                "text": f"text is {len(text)} characters long; "
                f"at most {MAX_REVISION_CHARS} allowed"
            }
        )
    if text == current_text(candidate):
        raise ValidationError(
            {"text": "text is the same as the current version; change it to save"}
        )
    return Revision.objects.create(candidate=candidate, user=user, text=text)


def _set_status(candidate: Candidate, decision: Decision, user) -> None:
    from webapp.generation.services import do_set_candidate_status

    do_set_candidate_status(candidate, STATUS_OF_DECISION[decision], user)


@transaction.atomic
def do_decide(
    candidate: Candidate, user: AbstractBaseUser, decision: str, note: str = ""
) -> ReviewDecision:
    """Record an approve/reject and make it the candidate's status."""
    require_reviewer(user, candidate.organization_id)
    decision = clean_decision(decision)
    note = clean_note(note)
    record = ReviewDecision.objects.create(
        candidate=candidate, user=user, decision=decision, note=note
    )
    _set_status(candidate, decision, user)
    return record


@transaction.atomic
def do_bulk_decide(
    candidates: Sequence[Candidate] | QuerySet[Candidate],
    user: AbstractBaseUser,
    decision: str,
    note: str = "",
) -> list[ReviewDecision]:
    """Approve or reject many candidates of one organization, all or none."""
    candidates = list(candidates)
    if not candidates:
        raise ValidationError({"candidates": "choose at least one candidate"})
    if len(candidates) > MAX_BULK:
        raise ValidationError(
            {
                "candidates": f"at most {MAX_BULK} candidates per bulk decision, "
                f"got {len(candidates)}"
            }
        )
    organizations = {c.organization_id for c in candidates}
    if len(organizations) != 1:
        raise ValidationError(
            {"candidates": "all candidates must belong to one organization"}
        )
    require_reviewer(user, organizations.pop())
    decision = clean_decision(decision)
    note = clean_note(note)
    records = ReviewDecision.objects.bulk_create(
        ReviewDecision(candidate=c, user=user, decision=decision, note=note)
        for c in candidates
    )
    for candidate in candidates:
        _set_status(candidate, decision, user)
    return records


def with_feedback(queryset: QuerySet[Candidate], user=None) -> QuerySet[Candidate]:
    """Annotate candidates with their feedback in the same query, no N+1.

    Adds ``current_text`` (newest revision or the generated text),
    ``revision_count``, ``avg_stars``, ``rating_count`` and, for ``user``,
    ``my_stars``. Subqueries rather than joins, so counts are not multiplied.
    """
    latest_revision = Revision.objects.filter(candidate=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    revision_count = (
        Revision.objects.filter(candidate=OuterRef("pk"))
        .values("candidate")
        .annotate(n=Count("id"))
        .values("n")
    )
    ratings = Rating.objects.filter(candidate=OuterRef("pk")).values("candidate")
    queryset = queryset.annotate(
        current_text=Coalesce(
            Subquery(latest_revision.values("text")[:1], output_field=TextField()),
            "text",
        ),
        revision_count=Coalesce(
            Subquery(revision_count, output_field=IntegerField()), Value(0)
        ),
        avg_stars=Subquery(ratings.annotate(a=Avg("stars")).values("a")),
        rating_count=Coalesce(
            Subquery(
                ratings.annotate(n=Count("id")).values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        ),
    )
    if user is not None and user.is_authenticated:
        queryset = queryset.annotate(
            my_stars=Subquery(
                Rating.objects.filter(candidate=OuterRef("pk"), user=user).values(
                    "stars"
                )[:1]
            )
        )
    return queryset


def approved_copy(
    organization_ids: Iterable[int], campaign_id: int | None = None
) -> QuerySet[Candidate]:
    """Approved candidates with their final text and who approved them."""
    queryset = Candidate.objects.filter(
        organization_id__in=list(organization_ids), status=CandidateStatus.APPROVED
    )
    if campaign_id is not None:
        queryset = queryset.filter(campaign_id=campaign_id)
    return (
        with_feedback(queryset)
        .select_related("campaign", "persona", "model_version", "status_changed_by")
        .order_by("campaign_id", "-status_changed_at", "-id")
    )


# Words too common to say what a candidate is about (English; Chinese text is
# split into runs of characters, which rarely match these).
_STOPWORDS = frozenset(
    """a an and are as at be but by for from has have in is it its of on or our
    so that the this to was we with you your will can all more new now get just
    than them they their there what when which who why how not no yes very""".split()
)
MORE_LIKE_THIS_KEYWORDS = 5
# The new job samples a little closer to the model's likely wording than the
# source did, so the variants stay near the liked candidate.
MORE_LIKE_THIS_TEMPERATURE_FACTOR = 0.85


def salient_words(text: str, exclude: Iterable[str] = ()) -> list[str]:
    """Up to five content words of ``text``, in order, skipping ``exclude``."""
    import re

    seen = {w.casefold() for w in exclude}
    words = []
    for match in re.finditer(r"[^\W\d_]{4,}|[\u4e00-\u9fff]{2,6}", text):
        word = match.group(0)
        key = word.casefold()
        if key in _STOPWORDS or key in seen:
            continue
        seen.add(key)
        words.append(word)
        if len(words) == MORE_LIKE_THIS_KEYWORDS:
            break
    return words


def do_more_like_this(candidate: Candidate, user: AbstractBaseUser, num_candidates=8):
    """Launch a job seeded from a candidate: same campaign, content type,
    persona and channel, the source job's decoding parameters (a fresh seed,
    temperature x0.85), and the candidate's salient words as extra keywords.

    Keywords are what the prompt format carries literally (facts become
    placeholders), so they are the channel through which the model sees what
    the reviewer liked. Needs the launch role (admin or marketer).
    """
    from webapp.accounts.models import CAN_LAUNCH
    from webapp.generation.services import JOB_OWNED_PARAMS, do_launch_job

    role = role_in(user, candidate.organization_id)
    if role not in CAN_LAUNCH:
        raise PermissionDenied(
            f"launching needs the admin or marketer role; yours is {role or 'none'}"
        )
    campaign = candidate.campaign
    job = candidate.job
    channel = ""
    for variant in job.variants or []:
        if variant.get("persona_id") == candidate.persona_id:
            channel = variant.get("spec", {}).get("channel", "") or ""
            break
    text = current_text(candidate)
    extra = salient_words(text, exclude=[*campaign.keywords, campaign.product_name])
    keywords = list(campaign.keywords)[: 50 - len(extra)] + extra
    params = {
        k: v
        for k, v in (job.params or {}).items()
        if k not in JOB_OWNED_PARAMS and k != "seed"
    }
    if params.get("do_sample", True) and "temperature" in params:
        params["temperature"] = round(
            max(0.3, params["temperature"] * MORE_LIKE_THIS_TEMPERATURE_FACTOR), 3
        )
    # The job's own bad_words already include the brand's; do_launch_job adds
    # the brand's again and de-duplicates.
    return do_launch_job(
        campaign=campaign,
        content_type=candidate.content_type,
        user=user,
        num_candidates=num_candidates,
        params=params,
        persona=candidate.persona,
        channel=channel,
        product={"keywords": keywords},
    )
