"""Feedback-loop fixtures: registered versions and reviewed candidates.

``make_candidates`` writes a generation job and its candidates the way the
generation runner stores them (frozen spec in job.variants, one candidate per
index), so dataset tests can set up exact feedback without running a model;
the feedback itself always goes through the review services.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

_names = itertools.count(1)


@pytest.fixture
def model_dir(settings, tmp_path) -> Path:
    """A fresh MODEL_DIR for the test (registered and trained checkpoints)."""
    settings.MODEL_DIR = tmp_path / "models"
    settings.MODEL_DIR.mkdir()
    return settings.MODEL_DIR


@pytest.fixture
def base_version(db, model_dir, trained_tiny_checkpoint):
    """A micro model, trained for real, registered as the global default."""
    from webapp.models_registry.services import do_register_model_version

    version, _ = do_register_model_version(
        trained_tiny_checkpoint, name="micro-base", global_default=True
    )
    return version


def make_spec(campaign, content_type: str = "slogan", **overrides) -> dict:
    spec = {
        "content_type": content_type,
        "language": campaign.language,
        "channel": "",
        "tone": ["warm", "direct"],
        "persona": {},
        "brand": campaign.organization.name,
        "product": campaign.product_name,
        "facts": [],
        "keywords": list(campaign.keywords),
    }
    spec.update(overrides)
    return spec


def make_candidates(
    campaign,
    version,
    texts: list[str],
    *,
    content_type: str = "slogan",
    spec: dict | None = None,
    flags: list[list[dict]] | None = None,
):
    """One succeeded job whose candidates have the given texts (index order)."""
    from webapp.generation.models import Candidate, GenerationJob, JobStatus

    spec = spec or make_spec(campaign, content_type)
    job = GenerationJob.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        content_type=content_type,
        num_candidates=len(texts),
        total_candidates=len(texts),
        params={"seed": 1},
        variants=[{"persona_id": None, "spec": spec}],
        model_version=version,
        status=JobStatus.SUCCEEDED,
        progress=1.0,
    )
    candidates = []
    for index, text in enumerate(texts):
        candidate_flags = (flags or [[]] * len(texts))[index]
        candidates.append(
            Candidate.objects.create(
                job=job,
                organization=campaign.organization,
                campaign=campaign,
                index=index,
                content_type=content_type,
                text=text,
                score=-1.0 - index / 10,
                model_version=version,
                seed=1 + index,
                params={"seed": 1 + index},
                safety_flags=candidate_flags,
                flagged=bool(candidate_flags),
            )
        )
    return candidates


@pytest.fixture
def candidate_factory():
    return make_candidates


def zip_checkpoint(directory: Path, target: Path, extra: dict | None = None) -> Path:
    """Zip a checkpoint folder's files (plus ``extra`` name -> bytes members)."""
    import zipfile

    with zipfile.ZipFile(target, "w") as archive:
        for name in ("config.json", "tokenizer.json", "model.safetensors"):
            archive.write(directory / name, f"ckpt/{name}")
        metadata = (directory / "metadata.json").read_text()
        archive.writestr("ckpt/metadata.json", metadata)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return target


def unique_name(prefix: str = "v") -> str:
    return f"{prefix}-{next(_names)}"
