"""Generator fixtures: the shipped demo model, and micro models trained on the spot.

``tiny_checkpoint_factory(**overrides)`` (and ``trained_tiny_checkpoint``)
trains a micro ReformerLM (one layer, dim 32) and its tokenizer on a slice of
the shipped corpus in seconds and caches it for the session, so tests of
fine-tuning, loading and the CLI use a checkpoint made by the real training.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO_MODEL = REPO / "generator" / "demo_model"
DEMO_TRAIN = REPO / "generator" / "data" / "demo_train.jsonl"
DEMO_HELDOUT = REPO / "generator" / "data" / "demo_heldout.jsonl"

MICRO_MODEL = {
    "preset": "tiny",
    "vocab_size": 700,
    "dim": 32,
    "depth": 1,
    "heads": 2,
    "dim_head": 16,
    "max_seq_len": 128,
    "bucket_size": 16,
    "n_hashes": 1,
    "ff_mult": 2,
    "weight_tie_embedding": False,
}


def corpus_slice(path: Path, count: int, offset: int = 0) -> list[dict]:
    """The first ``count`` rows (after ``offset``) of a shipped corpus file."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if index >= offset + count:
                break
            if index >= offset:
                rows.append(json.loads(line))
    return rows


@pytest.fixture(scope="session")
def demo_checkpoint() -> Path:
    """The committed demo model; a missing one is a failure, not a skip."""
    for name in ("config.json", "tokenizer.json", "model.safetensors", "metadata.json"):
        if not (DEMO_MODEL / name).is_file():
            pytest.fail(
                f"generator/demo_model/{name} is missing; train it with "
                "python -m generator train --out generator/demo_model"
            )
    return DEMO_MODEL


@pytest.fixture(scope="session")
def tiny_checkpoint_factory(tmp_path_factory) -> Callable[..., Path]:
    """Train (once per distinct arguments) a micro checkpoint; returns its folder."""
    cache: dict[tuple, Path] = {}

    def make(rows: int = 240, steps: int = 40, seed: int = 7, **model) -> Path:
        from generator.config import ModelConfig, TrainConfig
        from generator.train import train

        key = (rows, steps, seed, tuple(sorted(model.items())))
        if key not in cache:
            out = tmp_path_factory.mktemp("micro_model")
            config = ModelConfig(**{**MICRO_MODEL, **model})
            train(
                corpus_slice(DEMO_TRAIN, rows),
                out,
                heldout_data=corpus_slice(DEMO_HELDOUT, 40),
                model_config=config,
                train_config=TrainConfig(
                    learning_rate=3e-3,
                    warmup_steps=5,
                    max_steps=steps,
                    batch_size=16,
                    eval_every=max(1, steps // 2),
                    eval_batches=3,
                    checkpoint_every=10_000,
                    seed=seed,
                ),
                device="cpu",
                progress_bar=False,
            )
            cache[key] = out
        return cache[key]

    return make


@pytest.fixture(scope="session")
def trained_tiny_checkpoint(tiny_checkpoint_factory) -> Path:
    """A micro model trained for 40 steps (tests/fixtures_worker.py has the
    randomly initialised ``tiny_checkpoint`` the worker tests use)."""
    return tiny_checkpoint_factory()
