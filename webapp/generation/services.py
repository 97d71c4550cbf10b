"""Launching, cancelling and reviewing generation jobs; bulk runs and schedules.

Views, admin, the UI and Celery tasks call these functions; none of them
writes jobs or candidates directly. Validation errors are Django
``ValidationError`` with messages that name the field and what would be right.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webapp.accounts.models import Organization
from webapp.brand.models import Persona
from webapp.campaigns.models import Campaign, CampaignStatus, ContentType
from webapp.generation.models import (
    BulkKind,
    BulkRun,
    BulkStatus,
    Candidate,
    CandidateStatus,
    GenerationJob,
    GenerationSchedule,
    JobStatus,
)
from webapp.generation.safety import SafetyRules
from webapp.models_registry.models import ModelStatus, ModelVersion
from webapp.models_registry.services import active_version_for

MAX_CANDIDATES_PER_JOB = 50
MAX_NEW_TOKENS = 512
# Parameters a job sets itself; a caller passing them is told so.
JOB_OWNED_PARAMS = ("num_return_sequences",)


# ------------------------------------------------------------------ launching


def clean_params(params: dict | None) -> dict[str, Any]:
    """Decoding parameters checked by the generator's own rules, plus bounds.

    The seed is fixed here, so every candidate can be reproduced and a resumed
    job continues with the same seeds.
    """
    from generator.params import GenerationParams

    params = dict(params or {})
    if not isinstance(params, dict):
        raise ValidationError({"params": ["params must be an object"]})
    for key in JOB_OWNED_PARAMS:
        if key in params:
            raise ValidationError(
                {
                    "params": [
                        f"{key} is set by the job from num_candidates; "
                        "leave it out of params"
                    ]
                }
            )
    try:
        parsed = GenerationParams.from_kwargs(**params)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"params": [str(exc)]}) from exc
    if parsed.max_new_tokens > MAX_NEW_TOKENS:
        raise ValidationError(
            {
                "params": [
                    f"max_new_tokens must be at most {MAX_NEW_TOKENS}, "
                    f"got {parsed.max_new_tokens}"
                ]
            }
        )
    resolved = parsed.resolved().to_dict()
    return {k: v for k, v in resolved.items() if k not in JOB_OWNED_PARAMS}


def _spec_for(
    campaign: Campaign,
    content_type: str,
    persona: Persona | None,
    channel: str,
    product: dict | None,
) -> dict:
    """The prompt spec: campaign facts, brand voice tone, persona attributes."""
    from generator.prompt import GenerationSpec

    brand_voice = campaign.brand_voice
    product = product or {}
    facts = list(product.get("facts", campaign.key_facts) or [])
    description = product.get("description", "")
    if description:
        facts.append(description)
    data = {
        "content_type": content_type,
        "language": campaign.language,
        "channel": channel,
        "tone": list(brand_voice.tone_words or []) if brand_voice else [],
        "persona": persona.prompt_attributes() if persona else {},
        "brand": campaign.organization.name,
        "product": product.get("name") or campaign.product_name,
        "facts": facts,
        "keywords": list(product.get("keywords", campaign.keywords) or []),
    }
    try:
        return GenerationSpec.from_dict(data).to_dict()
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def _resolve_model_version(
    organization: Organization, model_version: ModelVersion | None
) -> ModelVersion:
    if model_version is None:
        model_version = active_version_for(organization)
        if model_version is None:
            raise ValidationError(
                {
                    "model_version": [
                        f"no model version is active for {organization.name}; an "
                        "admin can activate one under /api/v1/models/ or run "
                        "manage.py register_model PATH --global-default"
                    ]
                }
            )
    if model_version.status != ModelStatus.READY:
        raise ValidationError(
            {"model_version": [f"model {model_version.name} is archived"]}
        )
    if model_version.organization_id not in (None, organization.id):
        raise ValidationError(
            {"model_version": [f"no model version with id {model_version.pk}"]}
        )
    return model_version


def do_launch_job(
    *,
    campaign: Campaign,
    content_type: str,
    user: AbstractBaseUser | None,
    num_candidates: int = 4,
    params: dict | None = None,
    persona: Persona | None = None,
    per_persona: bool = False,
    channel: str = "",
    model_version: ModelVersion | None = None,
    bulk_run: BulkRun | None = None,
    product: dict | None = None,
    source_line: int | None = None,
) -> GenerationJob:
    """Validate a request, freeze its prompt spec, save the job, queue it.

    The Celery task is sent in ``transaction.on_commit``, so a worker never
    receives the id of a job it cannot read yet.
    """
    organization = campaign.organization
    errors: dict[str, list[str]] = {}
    if content_type not in ContentType.values:
        errors["content_type"] = [
            f"content_type must be one of {', '.join(ContentType.values)}, "
            f"got {content_type!r}"
        ]
    if (
        isinstance(num_candidates, bool)
        or not isinstance(num_candidates, int)
        or not 1 <= num_candidates <= MAX_CANDIDATES_PER_JOB
    ):
        errors["num_candidates"] = [
            f"num_candidates must be in [1, {MAX_CANDIDATES_PER_JOB}], "
            f"got {num_candidates!r}"
        ]
    if persona is not None and persona.organization_id != organization.id:
        errors["persona"] = [f"no persona with id {persona.pk}"]
    if persona is not None and per_persona:
        errors["per_persona"] = ["choose one persona or per_persona, not both"]
    if errors:
        raise ValidationError(errors)
    personas: list[Persona | None] = [persona]
    if per_persona:
        personas = list(campaign.personas.order_by("name"))
        if not personas:
            raise ValidationError(
                {
                    "per_persona": [
                        f"campaign {campaign.name} has no personas; add personas "
                        "to it or launch without per_persona"
                    ]
                }
            )
    total = num_candidates * len(personas)
    if total > MAX_CANDIDATES_PER_JOB:
        raise ValidationError(
            {
                "num_candidates": [
                    f"{num_candidates} candidates for each of {len(personas)} "
                    f"personas makes {total}; at most {MAX_CANDIDATES_PER_JOB} "
                    "per job"
                ]
            }
        )
    rules = SafetyRules.from_brand_voice(campaign.brand_voice)
    cleaned = clean_params(params)
    # The brand's banned words go to decoding, so the model cannot write them.
    cleaned = clean_params(
        {**cleaned, "bad_words": _merge_words(cleaned["bad_words"], rules.banned_words)}
    )
    model_version = _resolve_model_version(organization, model_version)
    variants = [
        {
            "persona_id": p.pk if p else None,
            "spec": _spec_for(campaign, content_type, p, channel, product),
        }
        for p in personas
    ]
    _check_banned_words_in_specs(variants, cleaned["bad_words"])
    task_id = str(uuid.uuid4())
    job = GenerationJob.objects.create(
        organization=organization,
        campaign=campaign,
        content_type=content_type,
        persona=persona,
        per_persona=per_persona,
        num_candidates=num_candidates,
        total_candidates=total,
        params=cleaned,
        variants=variants,
        safety_rules=rules.to_dict(),
        model_version=model_version,
        created_by=user,
        bulk_run=bulk_run,
        source_line=source_line,
        celery_task_id=task_id,
        progress_message="waiting for a worker",
    )
    transaction.on_commit(lambda: enqueue_job(job.pk, task_id))
    return job


def _check_banned_words_in_specs(variants: list[dict], bad_words: list[str]) -> None:
    """Refuse a request whose own product, brand or facts contain a banned word.

    The generator fills these values into the text after decoding, so it
    could not keep such a word out; the marketer has to resolve the conflict.
    """
    folded = [(word, word.casefold()) for word in bad_words]
    for variant in variants:
        spec = variant["spec"]
        values = [("product", spec["product"]), ("brand", spec["brand"])]
        values += [("facts", fact) for fact in spec["facts"]]
        for field, value in values:
            for word, key in folded:
                if key in value.casefold():
                    raise ValidationError(
                        {
                            "params": [
                                f"the banned word {word!r} appears in the {field} "
                                f"{value!r}; remove it from the banned words (brand "
                                "voice or bad_words) or from the campaign"
                            ]
                        }
                    )


def _merge_words(first: list[str], second: list[str]) -> list[str]:
    seen: set[str] = set()
    merged = []
    for word in [*first, *second]:
        key = word.strip().casefold()
        if key and key not in seen:
            seen.add(key)
            merged.append(word.strip())
    return merged


def enqueue_job(job_id: int, task_id: str | None = None) -> None:
    from webapp.generation.tasks import generation_task_options, run_generation_job

    run_generation_job.apply_async(
        args=[job_id], task_id=task_id, **generation_task_options()
    )


def do_cancel_job(job: GenerationJob, user: AbstractBaseUser | None) -> GenerationJob:
    """Cancel a queued job now, or ask a running one to stop at its next batch.

    Finished candidates stay. A running job whose worker died (lease expired)
    is cancelled at once, since nobody would reach the next batch.
    """
    now = timezone.now()
    stopped = GenerationJob.objects.filter(pk=job.pk).filter(
        Q(status=JobStatus.QUEUED)
        | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    )
    if stopped.update(
        status=JobStatus.CANCELLED,
        cancel_requested=True,
        finished_at=now,
        progress_message="cancelled",
    ):
        job.refresh_from_db()
        return job
    requested = GenerationJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING)
    if requested.update(cancel_requested=True, progress_message="cancelling"):
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    raise ValidationError(
        f"job {job.pk} has already {job.status}; only queued or running jobs can "
        "be cancelled"
    )


def do_set_candidate_status(
    candidate: Candidate, status: str, user: AbstractBaseUser | None
) -> Candidate:
    """Approve, reject or reset a candidate (review records live in review/)."""
    if status not in CandidateStatus.values:
        raise ValidationError(
            {
                "status": [
                    f"status must be one of {', '.join(CandidateStatus.values)}, "
                    f"got {status!r}"
                ]
            }
        )
    candidate.status = status
    candidate.status_changed_by = user
    candidate.status_changed_at = timezone.now()
    candidate.save(update_fields=["status", "status_changed_by", "status_changed_at"])
    return candidate


# ------------------------------------------------------------------ CSV bulk

CSV_REQUIRED_COLUMNS = ("name", "description", "facts", "keywords")
CSV_OPTIONAL_COLUMNS = ("persona",)
CSV_MAX_ROWS = 500
CSV_MAX_BYTES = 2 * 1024 * 1024
# Cells of facts and keywords hold several items separated by ";" or "|".
CSV_LIST_SEPARATORS = (";", "|")


def _split_cell(value: str) -> list[str]:
    for separator in CSV_LIST_SEPARATORS[1:]:
        value = value.replace(separator, CSV_LIST_SEPARATORS[0])
    return [item.strip() for item in value.split(CSV_LIST_SEPARATORS[0])]


def parse_product_csv(data: bytes, organization: Organization) -> list[dict]:
    """Validate a whole product CSV; return one row dict per product.

    Every bad row is reported (``line 4: facts[1] is empty ...``) in one
    ValidationError, so a person fixes the file once; nothing is created from
    a file with any error.
    """
    from webapp.accounts.validation import clean_string_list

    if len(data) > CSV_MAX_BYTES:
        raise ValidationError(
            f"the file is {len(data)} bytes; at most {CSV_MAX_BYTES} allowed"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"the file must be UTF-8 text; byte {exc.start} is not"
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_REQUIRED_COLUMNS if c not in header]
    unknown = [
        c for c in header if c not in CSV_REQUIRED_COLUMNS + CSV_OPTIONAL_COLUMNS
    ]
    if not header or missing or unknown:
        expected = ", ".join(CSV_REQUIRED_COLUMNS) + " and optionally persona"
        found = ", ".join(header) or "nothing"
        raise ValidationError(
            f"line 1: the header must have the columns {expected}; found {found}"
        )
    reader.fieldnames = header
    personas = {p.name.casefold(): p.pk for p in organization.personas.all()}
    rows: list[dict] = []
    errors: list[str] = []
    line = 1
    for record in reader:
        line_no = line + 1
        line = reader.line_num
        if None in record:
            errors.append(
                f"line {line_no}: has {len(header) + len(record[None])} cells; "
                f"the header has {len(header)}"
            )
            continue
        if all(not (v or "").strip() for v in record.values()):
            continue  # blank line
        row_errors: list[str] = []
        name = (record.get("name") or "").strip()
        description = (record.get("description") or "").strip()
        if not name:
            row_errors.append("name is empty")
        elif len(name) > 120:
            row_errors.append(f"name is {len(name)} characters; at most 120")
        if len(description) > 1000:
            row_errors.append(
                f"description is {len(description)} characters; at most 1000"
            )
        cleaned: dict[str, list[str]] = {}
        for column, max_items, max_length in (("facts", 10, 200), ("keywords", 20, 60)):
            raw = (record.get(column) or "").strip()
            try:
                cleaned[column] = clean_string_list(
                    _split_cell(raw) if raw else [],
                    name=column,
                    max_items=max_items,
                    max_length=max_length,
                )
            except ValidationError as exc:
                row_errors.extend(exc.messages)
        persona_name = (record.get("persona") or "").strip()
        persona_id = None
        if persona_name:
            persona_id = personas.get(persona_name.casefold())
            if persona_id is None:
                row_errors.append(
                    f"persona {persona_name!r} does not exist in {organization.name}"
                )
        if row_errors:
            errors.append(f"line {line_no}: " + "; ".join(row_errors))
            continue
        rows.append(
            {
                "line": line_no,
                "name": name,
                "description": description,
                "facts": cleaned["facts"],
                "keywords": cleaned["keywords"],
                "persona_id": persona_id,
            }
        )
    if not errors and not rows:
        errors.append("the file has a header but no product rows")
    if len(rows) > CSV_MAX_ROWS:
        errors.append(f"the file has {len(rows)} rows; at most {CSV_MAX_ROWS}")
    if errors:
        raise ValidationError(errors)
    return rows


@transaction.atomic
def do_create_csv_bulk_run(
    *,
    campaign: Campaign,
    content_type: str,
    user: AbstractBaseUser | None,
    data: bytes,
    source_name: str = "",
    num_candidates: int = 4,
    params: dict | None = None,
) -> BulkRun:
    """Validate the file and the launch settings, then fan out one job per row."""
    errors: dict[str, list[str]] = {}
    if content_type not in ContentType.values:
        errors["content_type"] = [
            f"content_type must be one of {', '.join(ContentType.values)}, "
            f"got {content_type!r}"
        ]
    if not 1 <= num_candidates <= MAX_CANDIDATES_PER_JOB:
        errors["num_candidates"] = [
            f"num_candidates must be in [1, {MAX_CANDIDATES_PER_JOB}], "
            f"got {num_candidates}"
        ]
    try:
        cleaned_params = clean_params(params)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        rows = parse_product_csv(data, campaign.organization)
    except ValidationError as exc:
        errors["file"] = exc.messages
    if errors:
        raise ValidationError(errors)
    _resolve_model_version(campaign.organization, None)
    bulk = BulkRun.objects.create(
        organization=campaign.organization,
        kind=BulkKind.CSV,
        campaign=campaign,
        content_type=content_type,
        num_candidates=num_candidates,
        params=cleaned_params,
        source_name=source_name[:255],
        items=rows,
        created_by=user,
    )
    transaction.on_commit(lambda: enqueue_fan_out(bulk.pk))
    return bulk


def enqueue_fan_out(bulk_run_id: int) -> None:
    from webapp.generation.tasks import fan_out_bulk_run

    fan_out_bulk_run.delay(bulk_run_id)


# ------------------------------------------------------------------ fan-out


def do_start_schedule_run(schedule: GenerationSchedule) -> BulkRun | None:
    """Record a firing of the schedule as a BulkRun of campaign/type pairs."""
    if not schedule.enabled:
        return None
    chosen = list(schedule.campaigns.order_by("id"))
    campaigns = chosen or list(
        Campaign.objects.filter(
            organization_id=schedule.organization_id, status=CampaignStatus.ACTIVE
        ).order_by("id")
    )
    items = [
        {"campaign": c.pk, "content_type": ct}
        for c in campaigns
        for ct in schedule.content_types
    ]
    with transaction.atomic():
        bulk = BulkRun.objects.create(
            organization_id=schedule.organization_id,
            kind=BulkKind.SCHEDULE,
            schedule=schedule,
            num_candidates=schedule.num_candidates,
            params=schedule.params,
            source_name=schedule.name,
            items=items,
            created_by=schedule.created_by,
        )
        transaction.on_commit(lambda: enqueue_fan_out(bulk.pk))
    return bulk


def _skip_reason(campaign: Campaign | None, content_type: str) -> str:
    if campaign is None:
        return "campaign was deleted"
    if campaign.status != CampaignStatus.ACTIVE:
        return f"campaign is {campaign.status}, not active"
    if campaign.content_types and content_type not in campaign.content_types:
        return f"campaign does not use {content_type}"
    busy = GenerationJob.objects.filter(
        campaign=campaign,
        content_type=content_type,
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
    ).exists()
    if busy:
        return f"a {content_type} job for this campaign is still queued or running"
    return ""


def do_fan_out_chunk(bulk_run_id: int, chunk_size: int) -> bool:
    """Launch the next chunk of a bulk run's jobs; True while more remain.

    The bulk run row is locked for the chunk and the cursor moves in the same
    transaction as the launches, so a redelivered chunk task does not launch
    the same jobs twice.
    """
    with transaction.atomic():
        bulk = BulkRun.objects.select_for_update().filter(pk=bulk_run_id).first()
        if bulk is None or bulk.status in (BulkStatus.DONE, BulkStatus.FAILED):
            return False
        items = bulk.items[bulk.cursor : bulk.cursor + chunk_size]
        campaigns = {
            c.pk: c
            for c in Campaign.objects.select_related(
                "organization", "brand_voice"
            ).filter(
                organization_id=bulk.organization_id,
                pk__in={item.get("campaign") or bulk.campaign_id for item in items},
            )
        }
        personas = {
            p.pk: p
            for p in Persona.objects.filter(organization_id=bulk.organization_id)
        }
        for offset, item in enumerate(items, start=bulk.cursor):
            _launch_item(bulk, item, offset, campaigns, personas)
        bulk.cursor += len(items)
        more = bulk.cursor < len(bulk.items)
        bulk.status = BulkStatus.RUNNING if more else BulkStatus.DONE
        if not more:
            bulk.finished_at = timezone.now()
        bulk.save()
    return more


def _launch_item(bulk: BulkRun, item: dict, offset: int, campaigns, personas) -> None:
    if bulk.kind == BulkKind.SCHEDULE:
        campaign = campaigns.get(item["campaign"])
        content_type = item["content_type"]
        reason = _skip_reason(campaign, content_type)
        if reason:
            bulk.skipped.append(
                {
                    "campaign": item["campaign"],
                    "content_type": content_type,
                    "reason": reason,
                }
            )
            return
        kwargs = {}
    else:
        campaign = campaigns.get(bulk.campaign_id)
        content_type = bulk.content_type
        kwargs = {
            "product": {
                "name": item["name"],
                "description": item["description"],
                "facts": item["facts"],
                "keywords": item["keywords"],
            },
            "persona": personas.get(item.get("persona_id")),
            "source_line": item["line"],
        }
    if campaign is None:
        bulk.failures.append({"item": offset, "error": "campaign was deleted"})
        return
    try:
        with transaction.atomic():
            do_launch_job(
                campaign=campaign,
                content_type=content_type,
                user=bulk.created_by,
                num_candidates=bulk.num_candidates,
                params=dict(bulk.params),
                bulk_run=bulk,
                **kwargs,
            )
    except ValidationError as exc:
        failure = {"item": offset, "campaign": campaign.pk, "error": _flat(exc)}
        if "source_line" in kwargs:
            failure["line"] = kwargs["source_line"]
        bulk.failures.append(failure)
        return
    bulk.launched_count += 1


def _flat(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {message}"
            for field, messages in exc.message_dict.items()
            for message in messages
        )
    return "; ".join(exc.messages)


# ------------------------------------------------------------------ schedules

SCHEDULE_TASK = "webapp.generation.tasks.run_schedule"


def _parse_cron(cron: str) -> dict[str, str]:
    from celery.schedules import crontab

    fields = cron.split()
    if len(fields) != 5:
        raise ValidationError(
            {
                "cron": [
                    "cron must have 5 fields (minute hour day-of-month month "
                    f"day-of-week), e.g. '0 9 * * 1'; got {cron!r}"
                ]
            }
        )
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
    except (ValueError, TypeError) as exc:
        raise ValidationError({"cron": [f"cron {cron!r} is not valid: {exc}"]}) from exc
    return {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
    }


def _timing(cron: str, interval_seconds: int | None) -> dict:
    """PeriodicTask keyword arguments for a cron line or an interval."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule

    if bool(cron) == bool(interval_seconds):
        raise ValidationError(
            {"cron": ["give either cron or interval_seconds, exactly one of them"]}
        )
    if cron:
        crontab_schedule, _ = CrontabSchedule.objects.get_or_create(
            **_parse_cron(cron), timezone=timezone.get_default_timezone_name()
        )
        return {"crontab": crontab_schedule, "interval": None}
    if not isinstance(interval_seconds, int) or interval_seconds < 60:
        raise ValidationError(
            {
                "interval_seconds": [
                    f"interval_seconds must be at least 60, got {interval_seconds!r}"
                ]
            }
        )
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=interval_seconds, period=IntervalSchedule.SECONDS
    )
    return {"interval": interval, "crontab": None}


def _check_schedule_fields(
    organization: Organization, content_types, campaigns, num_candidates, params
) -> dict:
    errors: dict[str, list[str]] = {}
    if not content_types:
        errors["content_types"] = ["choose at least one content type"]
    bad = [ct for ct in content_types or [] if ct not in ContentType.values]
    if bad:
        errors["content_types"] = [
            f"unknown content types {', '.join(bad)}; choose from "
            f"{', '.join(ContentType.values)}"
        ]
    foreign = [c.pk for c in campaigns or [] if c.organization_id != organization.id]
    if foreign:
        errors["campaigns"] = [f"no campaigns with ids {foreign}"]
    if not 1 <= num_candidates <= MAX_CANDIDATES_PER_JOB:
        errors["num_candidates"] = [
            f"num_candidates must be in [1, {MAX_CANDIDATES_PER_JOB}], "
            f"got {num_candidates}"
        ]
    cleaned: dict = {}
    try:
        cleaned = clean_params(params)
        # A schedule draws a fresh seed each time unless one was given.
        if not (params or {}).get("seed"):
            cleaned.pop("seed")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def do_create_schedule(
    *,
    organization: Organization,
    name: str,
    content_types: list[str],
    user: AbstractBaseUser | None,
    campaigns: list[Campaign] | None = None,
    cron: str = "",
    interval_seconds: int | None = None,
    num_candidates: int = 4,
    params: dict | None = None,
    enabled: bool = True,
) -> GenerationSchedule:
    from django_celery_beat.models import PeriodicTask

    cleaned = _check_schedule_fields(
        organization, content_types, campaigns, num_candidates, params
    )
    if GenerationSchedule.objects.filter(organization=organization, name=name).exists():
        raise ValidationError(
            {"name": [f"a schedule named {name!r} already exists; choose another"]}
        )
    timing = _timing(cron, interval_seconds)
    schedule = GenerationSchedule.objects.create(
        organization=organization,
        name=name,
        content_types=list(content_types),
        num_candidates=num_candidates,
        params=cleaned,
        enabled=enabled,
        created_by=user,
    )
    schedule.campaigns.set(campaigns or [])
    schedule.periodic_task = PeriodicTask.objects.create(
        name=f"copydesk schedule {schedule.pk}",
        task=SCHEDULE_TASK,
        kwargs=json.dumps({"schedule_id": schedule.pk}),
        enabled=enabled,
        **timing,
    )
    schedule.save(update_fields=["periodic_task"])
    return schedule


@transaction.atomic
def do_update_schedule(schedule: GenerationSchedule, **changes) -> GenerationSchedule:
    """Change fields; cron / interval_seconds replace the timing."""
    from django_celery_beat.models import PeriodicTask

    content_types = changes.get("content_types", schedule.content_types)
    campaigns = changes.get("campaigns")
    num_candidates = changes.get("num_candidates", schedule.num_candidates)
    params = changes.get("params", schedule.params)
    cleaned = _check_schedule_fields(
        schedule.organization, content_types, campaigns, num_candidates, params
    )
    name = changes.get("name", schedule.name)
    clash = GenerationSchedule.objects.filter(
        organization=schedule.organization, name=name
    ).exclude(pk=schedule.pk)
    if clash.exists():
        raise ValidationError(
            {"name": [f"a schedule named {name!r} already exists; choose another"]}
        )
    schedule.name = name
    schedule.content_types = list(content_types)
    schedule.num_candidates = num_candidates
    schedule.params = cleaned
    schedule.enabled = changes.get("enabled", schedule.enabled)
    schedule.save()
    if campaigns is not None:
        schedule.campaigns.set(campaigns)
    task = schedule.periodic_task or PeriodicTask(
        name=f"copydesk schedule {schedule.pk}",
        task=SCHEDULE_TASK,
        kwargs=json.dumps({"schedule_id": schedule.pk}),
    )
    if changes.get("cron") or changes.get("interval_seconds"):
        for key, value in _timing(
            changes.get("cron", ""), changes.get("interval_seconds")
        ).items():
            setattr(task, key, value)
    task.enabled = schedule.enabled
    task.save()
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task"])
    return schedule


@transaction.atomic
def do_delete_schedule(schedule: GenerationSchedule) -> None:
    if schedule.periodic_task_id:
        schedule.periodic_task.delete()
    schedule.delete()


def schedule_timing(schedule: GenerationSchedule) -> dict:
    """The schedule's cron line or interval, for the API."""
    task = schedule.periodic_task
    if task is None:
        return {"cron": "", "interval_seconds": None}
    if task.crontab_id:
        c = task.crontab
        line = f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"
        return {"cron": line, "interval_seconds": None}
    if task.interval_id:
        seconds = task.interval.every * {
            "days": 86400,
            "hours": 3600,
            "minutes": 60,
            "seconds": 1,
            "microseconds": 1e-6,
        }.get(task.interval.period, 1)
        return {"cron": "", "interval_seconds": int(seconds)}
    return {"cron": "", "interval_seconds": None}


# ------------------------------------------------------------------ download


def _csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas in user and model text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


CSV_DOWNLOAD_COLUMNS = (
    "job",
    "line",
    "campaign",
    "product",
    "persona",
    "content_type",
    "job_status",
    "index",
    "text",
    "score",
    "flagged",
    "flags",
    "status",
)


def bulk_run_candidates_csv(bulk: BulkRun) -> str:
    """Every candidate of a bulk run as CSV text, one row per candidate."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_DOWNLOAD_COLUMNS)
    candidates = (
        Candidate.objects.filter(job__bulk_run=bulk)
        .select_related("job", "campaign", "persona")
        .order_by("job_id", "index")
    )
    for candidate in candidates:
        job = candidate.job
        spec = job.variants[0]["spec"] if job.variants else {}
        writer.writerow(
            [
                _csv_safe(value)
                for value in (
                    job.pk,
                    job.source_line or "",
                    candidate.campaign.name,
                    spec.get("product", ""),
                    candidate.persona.name if candidate.persona else "",
                    candidate.content_type,
                    job.status,
                    candidate.index,
                    candidate.text,
                    round(candidate.score, 4),
                    int(candidate.flagged),
                    "; ".join(f["message"] for f in candidate.safety_flags),
                    candidate.status,
                )
            ]
        )
    return out.getvalue()


def stale_running_jobs(now=None):
    """Running jobs whose worker stopped renewing the lease."""
    return GenerationJob.objects.filter(
        status=JobStatus.RUNNING, lease_expires_at__lt=now or timezone.now()
    )
