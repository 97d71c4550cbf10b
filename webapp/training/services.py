"""Fine-tuning jobs, retraining policy and model management (admins).

Views, the API, admin and Celery tasks call these functions; none of them
writes training jobs, model events or activations directly. Errors are
Django ``ValidationError`` whose messages name the field and what would be
right, and ``PermissionDenied`` when the user's role does not allow a write.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from webapp.accounts.models import CAN_MANAGE, Organization
from webapp.accounts.services import role_in
from webapp.campaigns.models import Campaign
from webapp.generation.models import Candidate, CandidateStatus
from webapp.models_registry.models import ModelActivation, ModelStatus, ModelVersion
from webapp.models_registry.services import (
    active_version_for,
    do_activate_version,
    do_register_model_version,
    do_set_version_status,
    versions_visible_to,
)
from webapp.review.models import Rating, Revision
from webapp.training.dataset import SFT, build_dataset, clean_options
from webapp.training.models import (
    ModelComparison,
    ModelEvent,
    ModelEventKind,
    RetrainingPolicy,
    TrainingJob,
    TrainingStatus,
    TrainingTrigger,
)

# Training options: name -> (default, low, high). Bounds keep one job within
# what a worker can finish before TRAINING_TIME_LIMIT on a GPU node.
NUMBER_OPTIONS: dict[str, tuple[Any, Any, Any]] = {
    "max_steps": (200, 1, 20000),
    "batch_size": (16, 1, 128),
    "learning_rate": (3e-4, 1e-6, 1e-2),
    # Base-corpus rows replayed per feedback example, against forgetting.
    "replay_ratio": (1.0, 0.0, 10.0),
    "heldout_fraction": (0.1, 0.0, 0.5),
    "seed": (1337, 0, 2**31 - 1),
    "preference_steps": (60, 1, 5000),
    "preference_beta": (0.1, 0.01, 10.0),
    "preference_learning_rate": (5e-5, 1e-7, 1e-2),
}
INT_OPTIONS = {"max_steps", "batch_size", "seed", "preference_steps"}
BOOL_OPTIONS = {"preference": False}
# A run needs at least this many SFT examples; fewer teach nothing measurable.
MIN_SFT_EXAMPLES = 1
ROLLBACK_NOTE = "rollback: "
# A running job's worker renews heartbeat_at at least every few seconds while
# it trains; one silent this long has lost its worker.
DEFAULT_STALE_SECONDS = 1800
# Zip members an uploaded checkpoint may contain.
CHECKPOINT_MEMBERS = frozenset(
    {"config.json", "tokenizer.json", "model.safetensors", "metadata.json"}
)
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")


def require_admin(user: AbstractBaseUser | None, organization: Organization) -> None:
    """PermissionDenied unless the user is an admin of the organization."""
    if user is None:
        return
    role = role_in(user, organization.pk)
    if role not in CAN_MANAGE:
        raise PermissionDenied(
            f"managing models needs the admin role in {organization.name}; "
            f"yours is {role or 'none'}"
        )


def _record(
    organization: Organization,
    version: ModelVersion,
    kind: str,
    user: AbstractBaseUser | None,
    note: str = "",
) -> ModelEvent:
    return ModelEvent.objects.create(
        organization=organization,
        version=version,
        kind=kind,
        user=user if user is not None and user.is_authenticated else None,
        note=note[:300],
    )


# ---------------------------------------------------------------- launching


def clean_training_options(
    data: dict[str, Any] | None, organization: Organization
) -> dict[str, Any]:
    """Validated training options (dataset filters under ``dataset``)."""
    data = dict(data or {})
    errors: dict[str, list[str]] = {}
    known = set(NUMBER_OPTIONS) | set(BOOL_OPTIONS) | {"dataset"}
    unknown = set(data) - known
    if unknown:
        errors["options"] = [
            f"unknown training options: {', '.join(sorted(unknown))}; known: "
            f"{', '.join(sorted(known))}"
        ]
    cleaned: dict[str, Any] = {}
    for name, (default, low, high) in NUMBER_OPTIONS.items():
        value = data.get(name, default)
        if value in (None, ""):
            value = default
        try:
            if isinstance(value, bool):
                raise ValueError
            number = int(value) if name in INT_OPTIONS else float(value)
            if name in INT_OPTIONS and float(value) != number:
                raise ValueError
        except (TypeError, ValueError):
            kind = "a whole number" if name in INT_OPTIONS else "a number"
            errors[name] = [f"{name} must be {kind}, got {value!r}"]
            continue
        if not low <= number <= high:
            errors[name] = [f"{name} must be in [{low}, {high}], got {number}"]
            continue
        cleaned[name] = number
    for name, default in BOOL_OPTIONS.items():
        value = data.get(name, default)
        if isinstance(value, str) and value.lower() in ("true", "1", "on", "yes"):
            value = True
        elif isinstance(value, str) and value.lower() in ("false", "0", "off", "no"):
            value = False
        if not isinstance(value, bool):
            errors[name] = [f"{name} must be true or false, got {value!r}"]
            continue
        cleaned[name] = value
    try:
        cleaned["dataset"] = clean_options(data.get("dataset"), organization).to_dict()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors[f"dataset.{field}"] = messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def resolve_base_version(
    organization: Organization, base_version: ModelVersion | None
) -> ModelVersion:
    """The chosen version (visible to the organization and ready) or the active one."""
    if base_version is None:
        base_version = active_version_for(organization)
        if base_version is None:
            raise ValidationError(
                {
                    "base_version": [
                        f"no model version is active for {organization.name}; "
                        "activate one or choose base_version"
                    ]
                }
            )
    if base_version.organization_id not in (None, organization.pk):
        raise ValidationError(
            {"base_version": [f"no model version with id {base_version.pk}"]}
        )
    if base_version.status != ModelStatus.READY:
        raise ValidationError(
            {
                "base_version": [
                    f"model {base_version.name} is archived; restore it or choose a "
                    "ready version"
                ]
            }
        )
    return base_version


def active_training_job(organization: Organization) -> TrainingJob | None:
    return TrainingJob.objects.filter(
        organization=organization,
        status__in=[TrainingStatus.QUEUED, TrainingStatus.RUNNING],
    ).first()


def do_launch_training(
    *,
    organization: Organization,
    user: AbstractBaseUser | None,
    base_version: ModelVersion | None = None,
    options: dict[str, Any] | None = None,
    trigger: str = TrainingTrigger.MANUAL,
) -> TrainingJob:
    """Validate, check there is feedback to learn from, save and queue a job.

    One job per organization runs at a time, so two runs never race to
    register versions from the same data. The task is sent on commit.
    """
    if user is not None:
        require_admin(user, organization)
    cleaned = clean_training_options(options, organization)
    base_version = resolve_base_version(organization, base_version)
    running = active_training_job(organization)
    if running is not None:
        raise ValidationError(
            f"training job {running.pk} of {organization.name} is still "
            f"{running.status}; wait for it to finish or cancel it"
        )
    dataset = build_dataset(
        organization, SFT, clean_options(cleaned["dataset"], organization)
    )
    if dataset.card["count"] < MIN_SFT_EXAMPLES:
        raise ValidationError(
            {
                "dataset": [
                    f"no feedback to learn from: {dataset.card['count']} approved or "
                    f"well-rated candidates match these filters (at least "
                    f"{MIN_SFT_EXAMPLES} needed); rate or approve more candidates "
                    "or widen the filters"
                ]
            }
        )
    task_id = str(uuid.uuid4())
    job = TrainingJob.objects.create(
        organization=organization,
        base_version=base_version,
        trigger=trigger,
        options=cleaned,
        created_by=user,
        celery_task_id=task_id,
        data_card=dataset.card,
        progress_message="waiting for a training worker",
    )
    transaction.on_commit(lambda: enqueue_training(job.pk, task_id))
    return job


def enqueue_training(job_id: int, task_id: str | None = None) -> None:
    from webapp.training.tasks import run_training_job, training_task_options

    run_training_job.apply_async(
        args=[job_id], task_id=task_id, **training_task_options()
    )


def do_cancel_training(job: TrainingJob, user: AbstractBaseUser | None) -> TrainingJob:
    """Cancel a queued job at once, or ask a running one to stop.

    A running job stops at its next training step and registers nothing.
    """
    if user is not None:
        require_admin(user, job.organization)
    now = timezone.now()
    if TrainingJob.objects.filter(pk=job.pk, status=TrainingStatus.QUEUED).update(
        status=TrainingStatus.CANCELLED,
        cancel_requested=True,
        finished_at=now,
        progress_message="cancelled before it started",
    ):
        job.refresh_from_db()
        return job
    if TrainingJob.objects.filter(pk=job.pk, status=TrainingStatus.RUNNING).update(
        cancel_requested=True, progress_message="cancelling"
    ):
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    raise ValidationError(
        f"training job {job.pk} has already {job.status}; only queued or running "
        "jobs can be cancelled"
    )


def fail_stale_training_jobs(stale_seconds: int | None = None) -> list[int]:
    """Fail running jobs whose worker stopped sending heartbeats.

    Nothing was registered for them (registration is the last step), so the
    active model is unchanged; the message says what happened.
    """
    seconds = stale_seconds or getattr(
        settings, "TRAINING_STALE_SECONDS", DEFAULT_STALE_SECONDS
    )
    cutoff = timezone.now() - timezone.timedelta(seconds=seconds)
    stale = list(
        TrainingJob.objects.filter(
            status=TrainingStatus.RUNNING, heartbeat_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    failed = []
    for pk in stale:
        if TrainingJob.objects.filter(
            pk=pk, status=TrainingStatus.RUNNING, heartbeat_at__lt=cutoff
        ).update(
            status=TrainingStatus.FAILED,
            finished_at=timezone.now(),
            error_message=(
                f"the training worker stopped responding for over {seconds} "
                "seconds (it may have been restarted or run out of memory); no "
                "model was registered and the active model is unchanged. Launch "
                "the job again."
            ),
        ):
            failed.append(pk)
    return failed


# ---------------------------------------------------------------- retraining


def feedback_count_since(organization: Organization, since) -> int:
    """Candidates rated or edited after ``since`` (all, when None)."""
    ratings = Rating.objects.filter(candidate__organization=organization)
    revisions = Revision.objects.filter(candidate__organization=organization)
    if since is not None:
        ratings = ratings.filter(updated_at__gt=since)
        revisions = revisions.filter(created_at__gt=since)
    ids = set(ratings.values_list("candidate_id", flat=True))
    ids |= set(revisions.values_list("candidate_id", flat=True))
    return len(ids)


def last_training_time(organization: Organization):
    return TrainingJob.objects.filter(organization=organization).aggregate(
        last=Max("queued_at")
    )["last"]


def new_feedback_count(organization: Organization) -> int:
    return feedback_count_since(organization, last_training_time(organization))


def do_set_retraining_policy(
    organization: Organization,
    user: AbstractBaseUser | None,
    *,
    enabled: bool,
    min_new_feedback: int,
    options: dict[str, Any] | None = None,
) -> RetrainingPolicy:
    if user is not None:
        require_admin(user, organization)
    if (
        isinstance(min_new_feedback, bool)
        or not isinstance(min_new_feedback, int)
        or not 1 <= min_new_feedback <= 100000
    ):
        raise ValidationError(
            {
                "min_new_feedback": [
                    "min_new_feedback must be a whole number in [1, 100000], "
                    f"got {min_new_feedback!r}"
                ]
            }
        )
    cleaned = clean_training_options(options, organization)
    policy, _ = RetrainingPolicy.objects.update_or_create(
        organization=organization,
        defaults={
            "enabled": bool(enabled),
            "min_new_feedback": min_new_feedback,
            "options": cleaned,
            "updated_by": user,
        },
    )
    return policy


def do_check_retraining() -> dict[str, list[int]]:
    """Launch a job for every organization whose policy threshold is reached.

    Returns {"launched": [job ids], "skipped": [organization ids]} so the
    periodic task's result says what it did.
    """
    result: dict[str, list[int]] = {"launched": [], "skipped": []}
    policies = RetrainingPolicy.objects.filter(enabled=True).select_related(
        "organization"
    )
    for policy in policies:
        organization = policy.organization
        RetrainingPolicy.objects.filter(pk=policy.pk).update(
            last_checked_at=timezone.now()
        )
        if active_training_job(organization) is not None:
            result["skipped"].append(organization.pk)
            continue
        if new_feedback_count(organization) < policy.min_new_feedback:
            continue
        try:
            with transaction.atomic():
                job = do_launch_training(
                    organization=organization,
                    user=None,
                    options=policy.options,
                    trigger=TrainingTrigger.AUTOMATIC,
                )
        except ValidationError:
            result["skipped"].append(organization.pk)
            continue
        result["launched"].append(job.pk)
    return result


# ---------------------------------------------------------------- versions


def do_activate(
    version: ModelVersion,
    organization: Organization,
    user: AbstractBaseUser | None,
    note: str = "",
) -> ModelActivation:
    """Activate for the organization (activation log entry) and record it."""
    require_admin(user, organization)
    with transaction.atomic():
        activation = do_activate_version(
            version, organization, user, note=note or "activated"
        )
        _record(organization, version, ModelEventKind.ACTIVATED, user, note)
    return activation


def activation_stack(organization: Organization) -> list[ModelVersion]:
    """Versions the organization moved through, oldest first, rollbacks undone.

    A normal activation pushes its version; a rollback pops back to the
    version it restored. So A, B, C, rollback, rollback leaves [A]: each
    rollback goes one step further back instead of toggling between two.
    """
    stack: list[ModelVersion] = []
    log = (
        ModelActivation.objects.filter(organization=organization)
        .select_related("version")
        .order_by("activated_at", "id")
    )
    for entry in log:
        if entry.note.startswith(ROLLBACK_NOTE):
            while stack and stack[-1].pk != entry.version_id:
                stack.pop()
            if not stack:
                stack.append(entry.version)
        elif not stack or stack[-1].pk != entry.version_id:
            stack.append(entry.version)
    return stack


def rollback_target(organization: Organization) -> ModelVersion | None:
    """The version a rollback would activate (previous ready one), if any."""
    current = active_version_for(organization)
    stack = activation_stack(organization)
    if stack and current is not None and stack[-1].pk == current.pk:
        stack = stack[:-1]
    for version in reversed(stack):
        if version.status == ModelStatus.READY and (
            current is None or version.pk != current.pk
        ):
            return version
    default = active_version_for(None)
    if default is not None and (current is None or default.pk != current.pk):
        return default
    return None


def do_rollback(
    organization: Organization, user: AbstractBaseUser | None
) -> ModelActivation:
    """Activate the version that was active before the current one."""
    require_admin(user, organization)
    current = active_version_for(organization)
    target = rollback_target(organization)
    if target is None:
        name = current.name if current else "no version"
        raise ValidationError(
            f"nothing to roll back to: {name} is the only version that has been "
            f"active for {organization.name}"
        )
    note = f"{ROLLBACK_NOTE}from {current.name if current else 'none'}"
    with transaction.atomic():
        activation = do_activate_version(target, organization, user, note=note)
        _record(organization, target, ModelEventKind.ROLLED_BACK, user, note)
    return activation


def do_archive(
    version: ModelVersion, organization: Organization, user: AbstractBaseUser | None
) -> ModelVersion:
    """Archive one of the organization's own versions (not the active one)."""
    require_admin(user, organization)
    if version.organization_id != organization.pk:
        raise ValidationError(
            f"model {version.name} is shared by every organization; only operators "
            "can archive it (Django admin)"
        )
    if version.status == ModelStatus.ARCHIVED:
        raise ValidationError(f"model {version.name} is already archived")
    active = active_version_for(organization)
    if active is not None and active.pk == version.pk:
        raise ValidationError(
            f"model {version.name} is active for {organization.name}; activate "
            "another version or roll back before archiving it"
        )
    with transaction.atomic():
        do_set_version_status(version, ModelStatus.ARCHIVED)
        _record(organization, version, ModelEventKind.ARCHIVED, user)
    return version


def do_restore(
    version: ModelVersion, organization: Organization, user: AbstractBaseUser | None
) -> ModelVersion:
    """Make an archived version of the organization ready again."""
    require_admin(user, organization)
    if version.organization_id != organization.pk:
        raise ValidationError(f"model {version.name} is not one of your versions")
    if version.status != ModelStatus.ARCHIVED:
        raise ValidationError(f"model {version.name} is not archived")
    with transaction.atomic():
        do_set_version_status(version, ModelStatus.READY)
        _record(organization, version, ModelEventKind.RESTORED, user)
    return version


def lineage(version: ModelVersion, organization: Organization) -> list[ModelVersion]:
    """The version, its parent, its parent's parent ... (visible ones only).

    One query: the visible versions are read once and the chain is walked in
    memory (it also stops on a cycle).
    """
    by_id = {v.pk: v for v in versions_visible_to(organization).select_related(None)}
    chain: list[ModelVersion] = []
    current: ModelVersion | None = by_id.get(version.pk, version)
    seen: set[int] = set()
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = by_id.get(current.parent_id) if current.parent_id else None
    return chain


def history(version: ModelVersion, organization: Organization) -> list[dict]:
    """Activations and management events of a version, newest first."""
    entries = [
        {
            "kind": "activated"
            if not a.note.startswith(ROLLBACK_NOTE)
            else "rolled_back",
            "at": a.activated_at,
            "user": a.activated_by.get_username() if a.activated_by else "system",
            "note": a.note,
        }
        for a in ModelActivation.objects.filter(
            organization=organization, version=version
        ).select_related("activated_by")
    ]
    entries += [
        {
            "kind": e.kind,
            "at": e.created_at,
            "user": e.user.get_username() if e.user else "system",
            "note": e.note,
        }
        for e in ModelEvent.objects.filter(organization=organization, version=version)
        .exclude(kind__in=[ModelEventKind.ACTIVATED, ModelEventKind.ROLLED_BACK])
        .select_related("user")
    ]
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries


@dataclass
class RatingStats:
    candidates: int
    rated: int
    mean_stars: float | None
    approved: int
    rejected: int
    approval_rate: float | None
    by_day: list[dict]

    def to_dict(self) -> dict:
        return {
            "candidates": self.candidates,
            "rated": self.rated,
            "mean_stars": self.mean_stars,
            "approved": self.approved,
            "rejected": self.rejected,
            "approval_rate": self.approval_rate,
            "by_day": self.by_day,
        }


def rating_stats(version: ModelVersion, organization: Organization) -> RatingStats:
    """Mean stars and approval rate of the candidates a version produced.

    Two queries, both grouped by the candidates' day: ratings (mean, count)
    and candidates (total, approved, rejected). Approval rate is approved
    over decided (approved + rejected).
    """
    candidates = Candidate.objects.filter(
        organization=organization, model_version=version
    )
    per_day = {
        row["day"]: row
        for row in candidates.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            total=Count("id"),
            approved=Count("id", filter=Q(status=CandidateStatus.APPROVED)),
            rejected=Count("id", filter=Q(status=CandidateStatus.REJECTED)),
        )
        .order_by("day")
    }
    ratings = {
        row["day"]: row
        for row in Rating.objects.filter(
            candidate__organization=organization, candidate__model_version=version
        )
        .annotate(day=TruncDate("candidate__created_at"))
        .values("day")
        .annotate(
            mean=Avg("stars"), n=Count("id"), rated=Count("candidate", distinct=True)
        )
        .order_by("day")
    }
    by_day = []
    total = approved = rejected = rated = n_ratings = 0
    star_sum = 0.0
    for day in sorted(set(per_day) | set(ratings)):
        c = per_day.get(day, {"total": 0, "approved": 0, "rejected": 0})
        r = ratings.get(day, {"mean": None, "n": 0, "rated": 0})
        decided = c["approved"] + c["rejected"]
        by_day.append(
            {
                "day": day.isoformat(),
                "candidates": c["total"],
                "ratings": r["n"],
                "mean_stars": round(r["mean"], 3) if r["mean"] is not None else None,
                "approval_rate": round(c["approved"] / decided, 3) if decided else None,
            }
        )
        total += c["total"]
        approved += c["approved"]
        rejected += c["rejected"]
        rated += r["rated"]
        n_ratings += r["n"]
        star_sum += (r["mean"] or 0) * r["n"]
    decided = approved + rejected
    return RatingStats(
        candidates=total,
        rated=rated,
        mean_stars=round(star_sum / n_ratings, 3) if n_ratings else None,
        approved=approved,
        rejected=rejected,
        approval_rate=round(approved / decided, 3) if decided else None,
        by_day=by_day,
    )


# ---------------------------------------------------------------- comparing


def do_compare(
    *,
    organization: Organization,
    user: AbstractBaseUser,
    version_a: ModelVersion,
    version_b: ModelVersion,
    campaign: Campaign,
    content_type: str,
    num_candidates: int = 4,
    seed: int | None = None,
    params: dict[str, Any] | None = None,
) -> ModelComparison:
    """Launch the same request with the same seed on two versions.

    Each side is an ordinary generation job, so candidate i of both jobs was
    sampled with the same seed from the same prompt; only the weights differ.
    """
    from webapp.generation.services import do_launch_job

    require_admin(user, organization)
    errors: dict[str, list[str]] = {}
    if version_a.pk == version_b.pk:
        errors["version_b"] = ["choose two different versions to compare"]
    if campaign.organization_id != organization.pk:
        errors["campaign"] = [f"no campaign with id {campaign.pk}"]
    if seed is None:
        seed = uuid.uuid4().int % (2**31 - 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        errors["seed"] = [f"seed must be a whole number in [0, 2^31), got {seed!r}"]
    if errors:
        raise ValidationError(errors)
    params = {**(params or {}), "seed": seed}
    with transaction.atomic():
        jobs = [
            do_launch_job(
                campaign=campaign,
                content_type=content_type,
                user=user,
                num_candidates=num_candidates,
                params=params,
                model_version=version,
            )
            for version in (version_a, version_b)
        ]
        return ModelComparison.objects.create(
            organization=organization,
            version_a=version_a,
            version_b=version_b,
            campaign=campaign,
            content_type=content_type,
            num_candidates=num_candidates,
            seed=seed,
            job_a=jobs[0],
            job_b=jobs[1],
            created_by=user,
        )


def comparison_rows(comparison: ModelComparison) -> list[dict]:
    """Candidate i of each side in one row, with scores and feedback.

    One query for both jobs' candidates (feedback annotated in it).
    """
    from webapp.review.services import with_feedback

    candidates = with_feedback(
        Candidate.objects.filter(job_id__in=[comparison.job_a_id, comparison.job_b_id])
    ).order_by("index")
    by_side: dict[str, dict[int, Candidate]] = {"a": {}, "b": {}}
    for candidate in candidates:
        side = "a" if candidate.job_id == comparison.job_a_id else "b"
        by_side[side][candidate.index] = candidate
    indices = sorted(set(by_side["a"]) | set(by_side["b"]))
    return [
        {"index": i, "a": by_side["a"].get(i), "b": by_side["b"].get(i)}
        for i in indices
    ]


# ---------------------------------------------------------------- upload


def _member_name(info: zipfile.ZipInfo) -> str:
    """The checkpoint file a zip member is, or a ValidationError saying why not."""
    raw = info.filename
    path = PurePosixPath(raw.replace("\\", "/"))
    first = path.parts[0] if path.parts else ""
    if raw.startswith(("/", "\\")) or ":" in first:
        raise ValidationError(
            {"file": [f"zip member {raw!r} has an absolute path; refused"]}
        )
    if any(part == ".." for part in path.parts):
        raise ValidationError(
            {"file": [f"zip member {raw!r} leaves the folder (..); refused"]}
        )
    mode = (info.external_attr >> 16) & 0o170000
    if mode == 0o120000:
        raise ValidationError({"file": [f"zip member {raw!r} is a symlink; refused"]})
    if path.name.lower().endswith(PICKLE_SUFFIXES):
        raise ValidationError(
            {
                "file": [
                    f"{path.name} is a pickle-based weights file, which could run "
                    "code when opened; upload weights as model.safetensors only"
                ]
            }
        )
    if len(path.parts) > 2:
        raise ValidationError(
            {
                "file": [
                    f"zip member {raw!r} is nested too deep; put the checkpoint files "
                    "at the top of the zip or in one folder"
                ]
            }
        )
    if path.name not in CHECKPOINT_MEMBERS:
        raise ValidationError(
            {
                "file": [
                    f"unexpected file {raw!r} in the zip; a checkpoint holds only "
                    f"{', '.join(sorted(CHECKPOINT_MEMBERS))}"
                ]
            }
        )
    return path.name


def _file_size(upload: BinaryIO) -> int:
    size = getattr(upload, "size", None)
    if size is not None:
        return int(size)
    position = upload.tell()
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(position)
    return size


def do_upload_checkpoint(
    *,
    organization: Organization,
    user: AbstractBaseUser | None,
    upload: BinaryIO,
    name: str = "",
) -> ModelVersion:
    """Validate a checkpoint zip and register it as one of the organization's versions.

    Refused: files over MODEL_UPLOAD_MAX_BYTES (zipped or unzipped, so a zip
    bomb is caught before extraction), pickle-based weights, paths that
    leave the folder, symlinks, unexpected files, and anything
    generator.checkpoint.validate_checkpoint rejects. Nothing is kept on
    failure; the new version is not activated.
    """
    require_admin(user, organization)
    limit = settings.MODEL_UPLOAD_MAX_BYTES
    name = (name or "").strip()
    if len(name) > 120:
        raise ValidationError({"name": ["name must be at most 120 characters"]})
    size = _file_size(upload)
    if size > limit:
        raise ValidationError(
            {"file": [f"the zip is {size} bytes; at most {limit} bytes are allowed"]}
        )
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValidationError(
            {"file": [f"the upload is not a readable zip file ({exc})"]}
        ) from exc
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        names: dict[str, zipfile.ZipInfo] = {}
        for info in members:
            member = _member_name(info)
            if member in names:
                raise ValidationError(
                    {"file": [f"the zip holds {member} twice; keep one"]}
                )
            names[member] = info
        missing = sorted(CHECKPOINT_MEMBERS - set(names))
        if missing:
            raise ValidationError({"file": [f"the zip lacks {', '.join(missing)}"]})
        unpacked = sum(info.file_size for info in names.values())
        if unpacked > limit:
            raise ValidationError(
                {
                    "file": [
                        f"the checkpoint unpacks to {unpacked} bytes; at most "
                        f"{limit} bytes are allowed"
                    ]
                }
            )
        staging_root = Path(settings.MODEL_DIR) / ".uploads"
        staging_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="upload-", dir=staging_root))
        try:
            for member, info in names.items():
                written = 0
                with (
                    archive.open(info) as source,
                    (staging / member).open("wb") as target,
                ):
                    for block in iter(lambda s=source: s.read(1 << 20), b""):
                        written += len(block)
                        if written > limit:
                            raise ValidationError(
                                {"file": [f"{member} is larger than {limit} bytes"]}
                            )
                        target.write(block)
            return _register_upload(organization, user, staging, name)
        except zipfile.BadZipFile as exc:
            raise ValidationError({"file": [f"the zip is corrupt ({exc})"]}) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _register_upload(
    organization: Organization,
    user: AbstractBaseUser | None,
    staging: Path,
    name: str,
) -> ModelVersion:
    from generator.checkpoint import CheckpointError, validate_checkpoint
    from webapp.models_registry.services import checkpoint_sha256

    try:
        validate_checkpoint(staging)
    except CheckpointError as exc:
        message = str(exc).replace(str(staging), "the uploaded checkpoint")
        raise ValidationError({"file": [message]}) from exc
    existing = ModelVersion.objects.filter(
        checkpoint_sha256=checkpoint_sha256(staging)
    ).first()
    if existing is not None:
        # Another organization's version is not revealed by name.
        if existing.organization_id in (None, organization.pk):
            raise ValidationError(
                {"file": [f"this checkpoint is already registered as {existing.name}"]}
            )
        raise ValidationError(
            {"file": ["this checkpoint is already registered; nothing was changed"]}
        )
    name = name or f"{organization.slug}-upload-{timezone.now():%Y%m%d-%H%M%S}"
    if ModelVersion.objects.filter(name=name).exists():
        raise ValidationError(
            {"name": [f"a model named {name!r} already exists; choose another name"]}
        )
    with transaction.atomic():
        version, _ = do_register_model_version(
            staging,
            name=name,
            organization=organization,
            created_by=user,
            copy=True,
        )
        if version.parent is not None and version.parent.organization_id not in (
            None,
            organization.pk,
        ):
            # metadata.json named another organization's version: not a parent
            # this organization may see.
            version.parent = None
            version.save(update_fields=["parent"])
        _record(organization, version, ModelEventKind.UPLOADED, user, "zip upload")
    return version
