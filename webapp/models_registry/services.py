"""Registering checkpoints as model versions and choosing the active one."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.text import slugify

from webapp.accounts.models import Organization
from webapp.models_registry.models import ModelActivation, ModelStatus, ModelVersion

CHECKPOINT_FILES = (
    "config.json",
    "tokenizer.json",
    "model.safetensors",
    "metadata.json",
)


def checkpoint_sha256(path: Path) -> str:
    """A digest of the checkpoint's files, so re-registering is detected."""
    digest = hashlib.sha256()
    for name in CHECKPOINT_FILES:
        file = path / name
        if not file.exists():
            continue
        digest.update(name.encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def versions_visible_to(organization: Organization | None) -> QuerySet[ModelVersion]:
    """Shared versions plus the organization's own."""
    shared = Q(organization__isnull=True)
    if organization is None:
        return ModelVersion.objects.filter(shared)
    return ModelVersion.objects.filter(shared | Q(organization=organization))


@transaction.atomic
def do_register_model_version(
    path: str | Path,
    *,
    name: str | None = None,
    organization: Organization | None = None,
    created_by: AbstractBaseUser | None = None,
    global_default: bool = False,
    copy: bool = True,
) -> tuple[ModelVersion, bool]:
    """Validate a checkpoint and register it; returns (version, created).

    The checkpoint is copied under settings.MODEL_DIR unless it already lives
    there, so deleting the source later does not break generation. The same
    files registered twice give the existing version back (idempotent).
    Raises ValidationError (bad checkpoint, name taken by other files).
    """
    from generator.checkpoint import CheckpointError, validate_checkpoint

    source = Path(path).expanduser().resolve()
    if not source.is_dir():
        raise ValidationError(f"checkpoint directory {source} does not exist")
    try:
        validate_checkpoint(source)
    except CheckpointError as exc:
        raise ValidationError(f"{source} is not a valid checkpoint: {exc}") from exc
    digest = checkpoint_sha256(source)
    version = ModelVersion.objects.filter(checkpoint_sha256=digest).first()
    created = version is None
    if version is None:
        config = _read_json(source / "config.json")
        metadata = _read_json(source / "metadata.json")
        name = (name or metadata.get("name") or source.name).strip()[:120]
        if ModelVersion.objects.filter(name=name).exists():
            raise ValidationError(
                f"model name {name!r} is already registered for other checkpoint "
                "files; choose another name with --name"
            )
        target = _place_checkpoint(source, name, digest, copy=copy)
        version = ModelVersion.objects.create(
            name=name,
            organization=organization,
            checkpoint_dir=str(target),
            checkpoint_sha256=digest,
            preset=str(config.get("preset", ""))[:32],
            config=config,
            metrics=metadata.get("metrics") or {},
            metadata=metadata,
            parent=_find_parent(metadata.get("parent")),
            created_by=created_by,
        )
    if global_default and active_version_for(None) != version:
        do_activate_version(version, None, created_by, note="registered as default")
    return version, created


def _place_checkpoint(source: Path, name: str, digest: str, *, copy: bool) -> Path:
    model_dir = Path(settings.MODEL_DIR).resolve()
    if not copy or source.is_relative_to(model_dir):
        return source
    target = model_dir / f"{slugify(name) or 'model'}-{digest[:12]}"
    if not target.exists():
        model_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source, partial)
        partial.rename(target)  # atomic: a half copy is never registered
    return target


def _find_parent(parent) -> ModelVersion | None:
    """metadata.parent may name a version, its checkpoint folder or its digest."""
    if not parent:
        return None
    parent = str(parent)
    return ModelVersion.objects.filter(
        Q(name=parent)
        | Q(checkpoint_sha256=parent)
        | Q(checkpoint_dir=parent)
        | Q(checkpoint_dir__endswith="/" + Path(parent).name)
    ).first()


def do_activate_version(
    version: ModelVersion,
    organization: Organization | None,
    user: AbstractBaseUser | None,
    note: str = "",
) -> ModelActivation:
    """Make version the one the organization (None: everyone by default) uses."""
    if version.status != ModelStatus.READY:
        raise ValidationError(
            f"model {version.name} is {version.status}; only ready models can be "
            "activated"
        )
    if version.organization_id is not None and (
        organization is None or version.organization_id != organization.id
    ):
        raise ValidationError(
            f"model {version.name} belongs to one organization and cannot be "
            "activated for another or as the global default"
        )
    return ModelActivation.objects.create(
        organization=organization, version=version, activated_by=user, note=note[:300]
    )


def active_version_for(organization: Organization | None) -> ModelVersion | None:
    """The organization's newest ready activation, else the global default."""
    return active_version_for_id(organization.pk if organization else None)


def active_version_for_id(organization_id: int | None) -> ModelVersion | None:
    """active_version_for by organization id (one query, two without own pick)."""
    scopes = [organization_id, None] if organization_id is not None else [None]
    for scope in scopes:
        activation = (
            ModelActivation.objects.filter(
                organization_id=scope, version__status=ModelStatus.READY
            )
            .select_related("version")
            .first()
        )
        if activation is not None:
            return activation.version
    return None


def do_set_version_status(version: ModelVersion, status: ModelStatus) -> ModelVersion:
    version.status = status
    version.save(update_fields=["status"])
    return version
