"""Turn an organization's review feedback into fine-tuning data.

Two kinds of data come out of the same candidates:

- SFT examples: the prompt that made a candidate -> the text that ships (the
  newest revision if it was edited, else the generated text). A candidate
  qualifies when it was approved or its mean rating reaches ``min_rating``,
  and never when it was rejected or rated below ``min_rating``.
- Preference pairs (prompt, chosen, rejected): among candidates of the same
  prompt, a candidate rated at least one star higher, or approved against a
  rejected one, is preferred; and every edit is preferred over the text the
  model wrote.

"The same prompt" means the same frozen prompt spec (content type, language,
channel, tone, persona, brand, product, facts, keywords), so candidates of
different jobs that asked the same thing are compared with each other.

Candidates flagged for personal data (e-mail addresses, phone numbers,
foreign URLs), or whose edited text contains any, are left out, so training
never teaches the model to write someone's contact details. Rows are
de-duplicated on (prompt, text) and (prompt, chosen, rejected).

Exports use the column names of Hugging Face TRL: ``prompt``/``completion``
for SFT and ``prompt``/``chosen``/``rejected`` for preference data. The prompt
is the prompt format's text (control codes, with ``{product}``-style
placeholders) and the texts are delexicalized the same way, which is exactly
what the model reads and writes; ``meta.spec`` has the literal values.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from webapp.accounts.models import Organization
from webapp.campaigns.models import ContentType
from webapp.generation.models import Candidate, CandidateStatus
from webapp.generation.safety import find_personal_data
from webapp.review.models import MAX_STARS, MIN_STARS

SFT, PREFERENCE = "sft", "preference"
FORMATS = (SFT, PREFERENCE)
PERSONAL_DATA_CODES = frozenset({"email", "phone", "url"})
DEFAULT_MIN_RATING = 4
# A rating difference smaller than this says too little about which is better.
MIN_STAR_MARGIN = 1.0
# Pairs per prompt are capped: a prompt with many candidates would otherwise
# give quadratically many pairs and drown the others.
MAX_PAIRS_PER_PROMPT = 50
MAX_FILTER_IDS = 100


@dataclass(frozen=True)
class DatasetOptions:
    """Which feedback goes into a dataset."""

    min_rating: int = DEFAULT_MIN_RATING
    since: datetime | None = None
    until: datetime | None = None
    campaigns: tuple[int, ...] = ()
    content_types: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_rating": self.min_rating,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "campaigns": list(self.campaigns),
            "content_types": list(self.content_types),
        }


def _parse_moment(name: str, value: Any, end_of_day: bool) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.max if end_of_day else time.min)
    elif isinstance(value, str):
        moment = parse_datetime(value.strip())
        if moment is None:
            day = parse_date(value.strip())
            if day is None:
                raise ValidationError(
                    {
                        name: [
                            f"{name} must be a date (YYYY-MM-DD) or an ISO date-time,"
                            f" got {value!r}"
                        ]
                    }
                )
            moment = datetime.combine(day, time.max if end_of_day else time.min)
    else:
        raise ValidationError({name: [f"{name} must be a date, got {value!r}"]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _id_list(name: str, value: Any) -> tuple[int, ...]:
    if value in (None, "", []):
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValidationError({name: [f"{name} must be a list of ids, got {value!r}"]})
    ids = []
    for item in items:
        text = str(item).strip()
        if isinstance(item, bool) or not text.isdigit():
            raise ValidationError(
                {name: [f"{name} must hold whole-number ids, got {item!r}"]}
            )
        ids.append(int(text))
    if len(ids) > MAX_FILTER_IDS:
        raise ValidationError(
            {name: [f"at most {MAX_FILTER_IDS} {name}, got {len(ids)}"]}
        )
    return tuple(sorted(set(ids)))


def clean_options(
    data: dict[str, Any] | None, organization: Organization | None = None
) -> DatasetOptions:
    """Validate dataset filters; every problem is reported under its field.

    Campaign ids must belong to ``organization`` (when given); an id of
    another organization reads the same as one that does not exist.
    """
    data = dict(data or {})
    errors: dict[str, list[str]] = {}
    unknown = set(data) - {"min_rating", "since", "until", "campaigns", "content_types"}
    if unknown:
        errors["options"] = [f"unknown dataset options: {', '.join(sorted(unknown))}"]
    min_rating: Any = data.get("min_rating", DEFAULT_MIN_RATING)
    if min_rating in (None, ""):
        min_rating = DEFAULT_MIN_RATING
    if isinstance(min_rating, str) and min_rating.strip().isdigit():
        min_rating = int(min_rating)
    if (
        isinstance(min_rating, bool)
        or not isinstance(min_rating, int)
        or not MIN_STARS <= min_rating <= MAX_STARS
    ):
        errors["min_rating"] = [
            f"min_rating must be a whole number from {MIN_STARS} to {MAX_STARS}, "
            f"got {min_rating!r}"
        ]
    moments = {}
    for name, end in (("since", False), ("until", True)):
        try:
            moments[name] = _parse_moment(name, data.get(name), end)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if moments.get("since") and moments.get("until"):
        if moments["since"] > moments["until"]:
            errors["until"] = ["until must not be before since"]
    campaigns: tuple[int, ...] = ()
    try:
        campaigns = _id_list("campaigns", data.get("campaigns"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if campaigns and organization is not None:
        from webapp.campaigns.models import Campaign

        found = set(
            Campaign.objects.filter(
                organization=organization, pk__in=campaigns
            ).values_list("pk", flat=True)
        )
        missing = [pk for pk in campaigns if pk not in found]
        if missing:
            errors["campaigns"] = [
                f"no campaigns with ids {missing} in {organization.name}"
            ]
    content_types = data.get("content_types") or ()
    if isinstance(content_types, str):
        content_types = [c.strip() for c in content_types.split(",") if c.strip()]
    if not isinstance(content_types, list | tuple):
        errors["content_types"] = [
            f"content_types must be a list, got {content_types!r}"
        ]
        content_types = ()
    bad = [c for c in content_types if c not in ContentType.values]
    if bad:
        errors["content_types"] = [
            f"unknown content types {bad}; choose from {', '.join(ContentType.values)}"
        ]
    if errors:
        raise ValidationError(errors)
    return DatasetOptions(
        min_rating=min_rating,
        since=moments.get("since"),
        until=moments.get("until"),
        campaigns=campaigns,
        content_types=tuple(sorted(set(content_types))),
    )


# ---------------------------------------------------------------- prompts


class _Unbounded:
    """A stand-in tokenizer so build_prompt renders a prompt's text in full."""

    def encode(self, text: str) -> list[int]:
        return []

    def token_id(self, token: str) -> int:
        return 0


def prompt_text(spec: dict[str, Any]) -> str:
    """The prompt format's text for a spec (control codes and placeholders)."""
    from generator.prompt import GenerationSpec, build_prompt

    return build_prompt(GenerationSpec.from_dict(spec), _Unbounded(), 10**9).text


def delexicalized(text: str, spec: dict[str, Any]) -> str:
    from generator.prompt import GenerationSpec, delexicalize

    return delexicalize(text, GenerationSpec.from_dict(spec))


def spec_key(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, ensure_ascii=False)


def spec_of(candidate: Candidate) -> dict[str, Any]:
    """The frozen prompt spec that made the candidate (its job's variant)."""
    job = candidate.job
    variants = job.variants or []
    if not variants:
        return {}
    position = min(candidate.index // max(1, job.num_candidates), len(variants) - 1)
    return dict(variants[position].get("spec") or {})


# ---------------------------------------------------------------- selection


@dataclass
class FeedbackItem:
    """One reviewed candidate with what the reviewers said about it."""

    candidate_id: int
    campaign_id: int
    content_type: str
    model_version_id: int
    spec: dict[str, Any]
    generated_text: str
    final_text: str
    edited: bool
    avg_stars: float | None
    rating_count: int
    status: str
    created_at: datetime

    @property
    def key(self) -> str:
        return spec_key(self.spec)


@dataclass
class SftExample:
    spec: dict[str, Any]
    text: str
    candidate_id: int
    source: str  # "approved", "rating" or "approved+rating"
    edited: bool
    created_at: datetime

    def corpus_row(self) -> dict[str, Any]:
        """A generator corpus row (what generator.train.finetune reads)."""
        return {"text": self.text, **self.spec}

    def trl_row(self) -> dict[str, Any]:
        return {
            "prompt": prompt_text(self.spec),
            "completion": delexicalized(self.text, self.spec),
            "meta": {
                "candidate_id": self.candidate_id,
                "source": self.source,
                "edited": self.edited,
                "spec": self.spec,
                "text": self.text,
            },
        }


@dataclass
class PreferencePair:
    spec: dict[str, Any]
    chosen: str
    rejected: str
    source: str  # "rating", "decision" or "edit"
    chosen_candidate: int
    rejected_candidate: int
    margin: float
    created_at: datetime

    def trl_row(self) -> dict[str, Any]:
        return {
            "prompt": prompt_text(self.spec),
            "chosen": delexicalized(self.chosen, self.spec),
            "rejected": delexicalized(self.rejected, self.spec),
            "meta": {
                "source": self.source,
                "chosen_candidate": self.chosen_candidate,
                "rejected_candidate": self.rejected_candidate,
                "margin": self.margin,
                "spec": self.spec,
            },
        }


@dataclass
class Selection:
    """The reviewed candidates a dataset draws from, and what was left out."""

    items: list[FeedbackItem] = field(default_factory=list)
    excluded_personal_data: int = 0


def feedback_queryset(
    organization: Organization, options: DatasetOptions
) -> QuerySet[Candidate]:
    """Candidates of the organization that got any feedback, filtered."""
    from webapp.review.services import with_feedback

    queryset = Candidate.objects.filter(organization=organization).filter(
        Q(ratings__isnull=False)
        | Q(revisions__isnull=False)
        | ~Q(status=CandidateStatus.NEW)
    )
    if options.since:
        queryset = queryset.filter(created_at__gte=options.since)
    if options.until:
        queryset = queryset.filter(created_at__lte=options.until)
    if options.campaigns:
        queryset = queryset.filter(campaign_id__in=options.campaigns)
    if options.content_types:
        queryset = queryset.filter(content_type__in=options.content_types)
    ids = queryset.values("pk").distinct()
    return (
        with_feedback(Candidate.objects.filter(pk__in=ids))
        .select_related("job")
        .order_by("pk")
    )


def _has_personal_data(candidate: Candidate, final_text: str) -> bool:
    codes = {flag.get("code") for flag in candidate.safety_flags or []}
    if codes & PERSONAL_DATA_CODES:
        return True
    allowed = list((candidate.job.safety_rules or {}).get("allowed_domains") or [])
    return bool(find_personal_data(final_text, allowed))


def select_feedback(organization: Organization, options: DatasetOptions) -> Selection:
    """Reviewed candidates as FeedbackItems; personal data is counted and dropped.

    One query: the feedback is annotated on the candidates (no N+1).
    """
    selection = Selection()
    for candidate in feedback_queryset(organization, options):
        final_text = candidate.current_text
        if _has_personal_data(candidate, final_text):
            selection.excluded_personal_data += 1
            continue
        spec = spec_of(candidate)
        if not spec:
            continue
        selection.items.append(
            FeedbackItem(
                candidate_id=candidate.pk,
                campaign_id=candidate.campaign_id,
                content_type=candidate.content_type,
                model_version_id=candidate.model_version_id,
                spec=spec,
                generated_text=candidate.text,
                final_text=final_text,
                edited=candidate.revision_count > 0 and final_text != candidate.text,
                avg_stars=(
                    float(candidate.avg_stars)
                    if candidate.avg_stars is not None
                    else None
                ),
                rating_count=candidate.rating_count,
                status=candidate.status,
                created_at=candidate.created_at,
            )
        )
    return selection


# ---------------------------------------------------------------- builders


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def sft_examples(
    selection: Selection, options: DatasetOptions
) -> tuple[list[SftExample], int]:
    """SFT examples and how many duplicates were dropped."""
    examples: list[SftExample] = []
    seen: set[tuple[str, str]] = set()
    duplicates = 0
    for item in selection.items:
        if item.status == CandidateStatus.REJECTED:
            continue
        rated = item.avg_stars is not None
        if rated and item.avg_stars < options.min_rating:
            continue
        approved = item.status == CandidateStatus.APPROVED
        good_rating = rated and item.avg_stars >= options.min_rating
        if not (approved or good_rating):
            continue
        key = (item.key, _norm(item.final_text))
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        source = "+".join(
            name for name, on in (("approved", approved), ("rating", good_rating)) if on
        )
        examples.append(
            SftExample(
                spec=item.spec,
                text=item.final_text,
                candidate_id=item.candidate_id,
                source=source,
                edited=item.edited,
                created_at=item.created_at,
            )
        )
    return examples, duplicates


def _preference_value(item: FeedbackItem) -> tuple[float, str] | None:
    """How much reviewers liked a candidate, and what that is based on."""
    if item.avg_stars is not None:
        return item.avg_stars, "rating"
    if item.status == CandidateStatus.APPROVED:
        return float(MAX_STARS), "decision"
    if item.status == CandidateStatus.REJECTED:
        return float(MIN_STARS), "decision"
    return None


def preference_pairs(selection: Selection) -> tuple[list[PreferencePair], int]:
    """Preference pairs and how many duplicates were dropped."""
    pairs: list[PreferencePair] = []
    seen: set[tuple[str, str, str]] = set()
    duplicates = 0

    def add(pair: PreferencePair) -> None:
        nonlocal duplicates
        key = (spec_key(pair.spec), _norm(pair.chosen), _norm(pair.rejected))
        if key[1] == key[2]:
            return
        if key in seen:
            duplicates += 1
            return
        seen.add(key)
        pairs.append(pair)

    groups: dict[str, list[FeedbackItem]] = defaultdict(list)
    for item in selection.items:
        groups[item.key].append(item)
        if item.edited and item.status != CandidateStatus.REJECTED:
            add(
                PreferencePair(
                    spec=item.spec,
                    chosen=item.final_text,
                    rejected=item.generated_text,
                    source="edit",
                    chosen_candidate=item.candidate_id,
                    rejected_candidate=item.candidate_id,
                    margin=0.0,
                    created_at=item.created_at,
                )
            )
    for items in groups.values():
        valued = [(v, item) for item in items if (v := _preference_value(item))]
        # Best first; ties broken by id so the output is stable.
        valued.sort(key=lambda vi: (-vi[0][0], vi[1].candidate_id))
        made = 0
        for i, ((high, high_src), better) in enumerate(valued):
            for (low, low_src), worse in valued[i + 1 :]:
                if made >= MAX_PAIRS_PER_PROMPT:
                    break
                if high - low < MIN_STAR_MARGIN:
                    continue
                source = "rating" if "rating" in (high_src, low_src) else "decision"
                add(
                    PreferencePair(
                        spec=better.spec,
                        chosen=better.final_text,
                        rejected=worse.final_text,
                        source=source,
                        chosen_candidate=better.candidate_id,
                        rejected_candidate=worse.candidate_id,
                        margin=round(high - low, 3),
                        created_at=max(better.created_at, worse.created_at),
                    )
                )
                made += 1
    return pairs, duplicates


# ---------------------------------------------------------------- export


def jsonl(rows: list[dict[str, Any]]) -> str:
    """Canonical JSONL (sorted keys, UTF-8), so the same data hashes the same."""
    return "".join(
        json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows
    )


@dataclass
class FeedbackDataset:
    """A built dataset: its rows in TRL format, the JSONL text and its card."""

    format: str
    rows: list[dict[str, Any]]
    text: str
    card: dict[str, Any]
    sft: list[SftExample] = field(default_factory=list)
    pairs: list[PreferencePair] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return self.card["sha256"]


def _date_range(moments: list[datetime]) -> dict[str, str | None]:
    if not moments:
        return {"from": None, "to": None}
    return {"from": min(moments).isoformat(), "to": max(moments).isoformat()}


def build_dataset(
    organization: Organization,
    fmt: str,
    options: DatasetOptions | None = None,
    selection: Selection | None = None,
) -> FeedbackDataset:
    """Build the SFT or preference dataset of an organization, with its card."""
    if fmt not in FORMATS:
        raise ValidationError(
            {"format": [f"format must be sft or preference, got {fmt!r}"]}
        )
    options = options or DatasetOptions()
    if selection is None:
        selection = select_feedback(organization, options)
    sft: list[SftExample] = []
    pairs: list[PreferencePair] = []
    if fmt == SFT:
        sft, duplicates = sft_examples(selection, options)
        rows = [example.trl_row() for example in sft]
        moments = [example.created_at for example in sft]
        by_source: dict[str, int] = defaultdict(int)
        for example in sft:
            by_source[example.source] += 1
        by_source["edited"] = sum(1 for example in sft if example.edited)
        types = [example.spec.get("content_type", "") for example in sft]
    else:
        pairs, duplicates = preference_pairs(selection)
        rows = [pair.trl_row() for pair in pairs]
        moments = [pair.created_at for pair in pairs]
        by_source = defaultdict(int)
        for pair in pairs:
            by_source[pair.source] += 1
        types = [pair.spec.get("content_type", "") for pair in pairs]
    text = jsonl(rows)
    by_type: dict[str, int] = defaultdict(int)
    for content_type in types:
        by_type[content_type] += 1
    card = {
        "organization": organization.pk,
        "format": fmt,
        "columns": ["prompt", "completion", "meta"]
        if fmt == SFT
        else ["prompt", "chosen", "rejected", "meta"],
        "count": len(rows),
        "counts": {
            "rows": len(rows),
            "reviewed_candidates": len(selection.items),
            "by_source": dict(sorted(by_source.items())),
            "by_content_type": dict(sorted(by_type.items())),
            "excluded_personal_data": selection.excluded_personal_data,
            "duplicates_dropped": duplicates,
        },
        "date_range": _date_range(moments),
        "filters": options.to_dict(),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "created": timezone.now().isoformat(timespec="seconds"),
    }
    return FeedbackDataset(
        format=fmt, rows=rows, text=text, card=card, sft=sft, pairs=pairs
    )
