"""What a training worker does with one TrainingJob: claim, fine-tune, register.

Steps: build the SFT data from the organization's feedback (the data card is
frozen on the job), hold out a slice of it, mix in a replay sample of the
base corpus so the model does not forget what it knew, fine-tune from the
base version (generator.train.finetune), optionally run a preference (DPO)
stage on the preference pairs, evaluate parent and child on the feedback
held-out slice and on the base held-out set, and register the result as a
new ModelVersion whose parent is the base version.

Registration is the very last step and the job never activates anything, so
a failure or a cancellation at any point leaves the organization's active
model as it was, and nothing half-made is registered.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from webapp.models_registry.services import do_register_model_version
from webapp.training.dataset import (
    PREFERENCE,
    SFT,
    build_dataset,
    clean_options,
    select_feedback,
)
from webapp.training.models import ModelEventKind, TrainingJob, TrainingStatus

logger = logging.getLogger(__name__)

BASE_DIR = Path(settings.BASE_DIR)
BASE_TRAIN = BASE_DIR / "generator" / "data" / "demo_train.jsonl"
BASE_HELDOUT = BASE_DIR / "generator" / "data" / "demo_heldout.jsonl"
# Base held-out rows used for evaluation; a sample keeps evaluation under a
# few seconds on a CPU for the tiny preset.
BASE_EVAL_ROWS = 64
# Base held-out rows that join the feedback held-out slice for early
# stopping, so the best checkpoint is the one that learned without forgetting.
BASE_EARLY_STOP_ROWS = 16
MAX_LOG_CHARS = 60_000
# Database writes of progress (and cancellation checks) at most this often.
FLUSH_SECONDS = 1.0
MAX_ATTEMPTS = 3


class Cancelled(Exception):
    pass


def claim_job(job_id: int) -> TrainingJob | None:
    """queued -> running in one conditional UPDATE (or a lost run's job)."""
    from webapp.training.services import DEFAULT_STALE_SECONDS

    now = timezone.now()
    stale = now - timezone.timedelta(
        seconds=getattr(settings, "TRAINING_STALE_SECONDS", DEFAULT_STALE_SECONDS)
    )
    claimable = Q(status=TrainingStatus.QUEUED) | Q(
        status=TrainingStatus.RUNNING,
        heartbeat_at__lt=stale,
        attempts__lt=MAX_ATTEMPTS,
    )
    claimed = (
        TrainingJob.objects.filter(pk=job_id)
        .filter(claimable)
        .update(
            status=TrainingStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            progress=0.0,
            progress_message="starting",
        )
    )
    if claimed != 1:
        return None
    return TrainingJob.objects.select_related("organization", "base_version").get(
        pk=job_id
    )


class Reporter:
    """Collects logs and the loss curve; writes them (and reads cancellation)
    at most once per FLUSH_SECONDS, renewing the heartbeat each time."""

    def __init__(self, job: TrainingJob):
        self.job = job
        self.lines: list[str] = [job.logs] if job.logs else []
        self.curve: list[dict[str, Any]] = []
        self.progress = 0.0
        self.message = "starting"
        self._last_flush = 0.0
        self.cancelled = False

    def log(self, message: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        self.lines.append(f"{stamp} {message}")
        logger.info("training job %s: %s", self.job.pk, message)
        self.flush(force=True)

    def set(self, progress: float, message: str, force: bool = False) -> None:
        self.progress = max(self.progress, min(1.0, progress))
        self.message = message[:300]
        self.flush(force=force)

    def flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_flush < FLUSH_SECONDS:
            return
        self._last_flush = now
        text = "\n".join(self.lines)
        if len(text) > MAX_LOG_CHARS:
            text = "[earlier lines cut]\n" + text[-MAX_LOG_CHARS:]
        TrainingJob.objects.filter(
            pk=self.job.pk, status=TrainingStatus.RUNNING
        ).update(
            logs=text,
            loss_curve=self.curve,
            progress=self.progress,
            progress_message=self.message,
            heartbeat_at=timezone.now(),
        )
        self.cancelled = bool(
            TrainingJob.objects.filter(pk=self.job.pk)
            .values_list("cancel_requested", flat=True)
            .first()
        )

    def should_stop(self) -> bool:
        self.flush()
        return self.cancelled

    def check_cancel(self) -> None:
        self.flush(force=True)
        if self.cancelled:
            raise Cancelled


def _finish(job: TrainingJob, status: str, reporter: Reporter, **fields) -> None:
    reporter.flush(force=True)
    TrainingJob.objects.filter(pk=job.pk, status=TrainingStatus.RUNNING).update(
        status=status, finished_at=timezone.now(), **fields
    )


def run_training(job_id: int, task_id: str | None = None) -> str:
    """Run one training job to its end; returns what happened."""
    job = claim_job(job_id)
    if job is None:
        status = (
            TrainingJob.objects.filter(pk=job_id)
            .values_list("status", flat=True)
            .first()
        )
        return f"not claimed ({status or 'no such job'})"
    reporter = Reporter(job)
    work = (
        Path(settings.MODEL_DIR) / "training" / f"job-{job.pk}-{uuid.uuid4().hex[:8]}"
    )
    try:
        version = _run(job, reporter, work)
    except Cancelled:
        reporter.log("cancelled; nothing was registered")
        _finish(
            job,
            TrainingStatus.CANCELLED,
            reporter,
            progress_message="cancelled; the active model is unchanged",
        )
        return "cancelled"
    except SoftTimeLimitExceeded:
        hours = settings.TRAINING_SOFT_TIME_LIMIT / 3600
        message = (
            f"training ran past its time limit of {hours:g} hours and was stopped; "
            "no model was registered. Lower max_steps or use a GPU worker."
        )
        reporter.log(message)
        _finish(job, TrainingStatus.FAILED, reporter, error_message=message)
        return "time limit"
    except Exception as exc:  # noqa: BLE001 - every error ends the job with a message
        logger.exception("training job %s failed", job.pk)
        message = (
            str(exc)
            if isinstance(exc, ValueError)
            else f"training failed unexpectedly ({type(exc).__name__}: {exc})"
        )
        message += "; no model was registered and the active model is unchanged"
        reporter.log(f"failed: {message}")
        _finish(job, TrainingStatus.FAILED, reporter, error_message=message)
        return "failed"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reporter.log(f"registered {version.name}; an admin can compare and activate it")
    _finish(
        job,
        TrainingStatus.SUCCEEDED,
        reporter,
        progress=1.0,
        progress_message=f"done: {version.name}",
        resulting_version=version,
        metrics=version.metrics,
    )
    return "succeeded"


def _holdout(examples: list, fraction: float, seed: int) -> tuple[list, list]:
    """(train, held-out) split stable per candidate, so reruns split alike."""
    if fraction <= 0 or len(examples) < 5:
        return list(examples), []

    def rank(example) -> str:
        return hashlib.sha256(f"{seed}:{example.candidate_id}".encode()).hexdigest()

    ordered = sorted(examples, key=rank)
    n = max(1, round(len(examples) * fraction))
    return ordered[n:], ordered[:n]


def _sample(rows: list[dict], n: int, seed: int) -> list[dict]:
    if n >= len(rows):
        return list(rows)
    return random.Random(seed).sample(rows, n)


def _device() -> str | None:
    device = settings.GENERATOR_DEVICE
    return None if device in ("", "auto") else device


def _run(job: TrainingJob, reporter: Reporter, work: Path):
    from generator.config import TrainConfig
    from generator.data import read_corpus
    from generator.train import finetune

    options = job.options or {}
    organization = job.organization
    seed = int(options.get("seed", 1337))
    reporter.set(0.01, "building the dataset", force=True)
    dataset_options = clean_options(options.get("dataset"), organization)
    selection = select_feedback(organization, dataset_options)
    sft = build_dataset(organization, SFT, dataset_options, selection)
    preference = None
    if options.get("preference"):
        preference = build_dataset(organization, PREFERENCE, dataset_options, selection)
    if not sft.sft:
        raise ValueError(
            "no feedback to learn from: no approved or well-rated candidates match "
            "the job's filters any more"
        )
    train_examples, held_examples = _holdout(
        sft.sft, float(options.get("heldout_fraction", 0.1)), seed
    )
    train_rows = [example.corpus_row() for example in train_examples]
    feedback_held = [example.corpus_row() for example in held_examples]
    base_rows = read_corpus(BASE_TRAIN) if BASE_TRAIN.is_file() else []
    replay_n = round(float(options.get("replay_ratio", 1.0)) * len(train_rows))
    replay = _sample(base_rows, replay_n, seed)
    base_held_all = read_corpus(BASE_HELDOUT) if BASE_HELDOUT.is_file() else []
    base_held = _sample(base_held_all, BASE_EVAL_ROWS, seed)
    card = {
        "sft": sft.card,
        "preference": preference.card if preference else None,
        "train_examples": len(train_rows),
        "feedback_heldout_examples": len(feedback_held),
        "replay": {
            "source": str(BASE_TRAIN.relative_to(BASE_DIR)),
            "rows": len(replay),
            "ratio": float(options.get("replay_ratio", 1.0)),
        },
        "base_heldout": {
            "source": str(BASE_HELDOUT.relative_to(BASE_DIR)),
            "rows": len(base_held),
        },
    }
    TrainingJob.objects.filter(pk=job.pk).update(data_card=card)
    reporter.log(
        f"dataset {sft.sha256[:12]}: {len(train_rows)} feedback examples for "
        f"training, {len(feedback_held)} held out, {len(replay)} replayed base rows"
        + (f", {len(preference.pairs)} preference pairs" if preference else "")
    )
    reporter.check_cancel()

    max_steps = int(options.get("max_steps", 200))
    eval_every = max(10, max_steps // 5)
    train_config = TrainConfig(
        learning_rate=float(options.get("learning_rate", 3e-4)),
        warmup_steps=max(1, min(20, max_steps // 10)),
        max_steps=max_steps,
        batch_size=int(options.get("batch_size", 16)),
        eval_every=eval_every,
        eval_batches=10,
        # No periodic resume checkpoints: a lost run is started again.
        checkpoint_every=max_steps + 1,
        early_stopping_patience=3,
        seed=seed,
    )
    early_stop_rows = feedback_held + base_held[:BASE_EARLY_STOP_ROWS]
    curve_steps: set[tuple[str, int]] = set()
    sft_share = 0.8 if preference and preference.pairs else 0.88

    def on_progress(step: int, total: int, metrics: dict[str, Any]) -> None:
        if "train_loss" in metrics and ("train", step) not in curve_steps:
            curve_steps.add(("train", step))
            reporter.curve.append({"step": step, "loss": metrics["train_loss"]})
        if (step % eval_every == 0 or step == total) and "heldout_loss" in metrics:
            if ("eval", step) not in curve_steps:
                curve_steps.add(("eval", step))
                reporter.curve.append(
                    {"step": step, "heldout_loss": metrics["heldout_loss"]}
                )
                reporter.lines.append(
                    f"{timezone.now():%H:%M:%S} step {step}/{total}: held-out loss "
                    f"{metrics['heldout_loss']:.4f}"
                )
        loss = metrics.get("train_loss")
        reporter.set(
            0.05 + sft_share * step / max(1, total),
            f"fine-tuning: step {step} of {total}"
            + (f", loss {loss:.3f}" if loss is not None else ""),
        )

    started = time.monotonic()
    reporter.log(
        f"fine-tuning {job.base_version.name} for {max_steps} steps "
        f"(lr {train_config.learning_rate:g}, batch {train_config.batch_size})"
    )
    result = finetune(
        job.base_version.checkpoint_dir,
        train_rows + replay,
        work / "sft",
        heldout_data=early_stop_rows or base_held[:BASE_EARLY_STOP_ROWS] or None,
        train_config=train_config,
        device=_device(),
        on_progress=on_progress,
        should_stop=reporter.should_stop,
        progress_bar=False,
    )
    reporter.check_cancel()
    sft_seconds = time.monotonic() - started
    metrics: dict[str, Any] = {
        "steps": result.metrics.get("steps"),
        "stop_reason": result.metrics.get("stop_reason"),
        "train_loss": result.metrics.get("train_loss"),
        "training_seconds": round(sft_seconds, 1),
    }
    reporter.log(
        f"fine-tuning done in {sft_seconds:.1f} s ({metrics['steps']} steps, "
        f"{metrics['stop_reason']})"
    )
    final_dir = result.checkpoint_dir
    if preference is not None and preference.pairs:
        final_dir, dpo_metrics = _preference_stage(
            job, reporter, final_dir, preference, work, options, seed
        )
        metrics.update(dpo_metrics)
    reporter.check_cancel()
    reporter.set(0.92, "evaluating", force=True)
    metrics.update(
        _evaluate(job.base_version.checkpoint_dir, final_dir, feedback_held, base_held)
    )
    reporter.log(
        "evaluation: "
        + ", ".join(
            f"{k} {v:.4f}"
            for k, v in metrics.items()
            if k.endswith("_loss") and isinstance(v, float)
        )
    )
    reporter.check_cancel()
    reporter.set(0.97, "registering the new version", force=True)
    return _register(job, final_dir, metrics, reporter, sft.sha256)


def _preference_stage(job, reporter, start_dir, preference, work, options, seed):
    from generator.preference import preference_finetune

    steps = int(options.get("preference_steps", 60))
    reporter.log(
        f"preference stage (DPO, beta {options.get('preference_beta', 0.1)}) on "
        f"{len(preference.pairs)} pairs for {steps} steps"
    )

    def on_progress(step: int, total: int, metrics: dict[str, Any]) -> None:
        if "dpo_loss" in metrics:
            reporter.curve.append({"step": step, "dpo_loss": metrics["dpo_loss"]})
        reporter.set(
            0.85 + 0.07 * step / max(1, total),
            f"preference stage: step {step} of {total}",
        )

    pairs = [
        {"spec": pair.spec, "chosen": pair.chosen, "rejected": pair.rejected}
        for pair in preference.pairs
    ]
    result = preference_finetune(
        start_dir,
        pairs,
        work / "dpo",
        steps=steps,
        beta=float(options.get("preference_beta", 0.1)),
        learning_rate=float(options.get("preference_learning_rate", 5e-5)),
        batch_size=min(8, int(options.get("batch_size", 16))),
        seed=seed,
        device=_device(),
        on_progress=on_progress,
        should_stop=reporter.should_stop,
    )
    reporter.check_cancel()
    return result.checkpoint_dir, {
        f"preference_{k}": v
        for k, v in result.metrics.items()
        if isinstance(v, int | float | str)
    }


def _evaluate(parent_dir, child_dir, feedback_held, base_held) -> dict[str, Any]:
    """Held-out loss and perplexity of parent and child on both sets."""
    from generator.checkpoint import load_checkpoint
    from generator.model import pick_device
    from generator.train import evaluate_loss, make_examples

    device = pick_device(_device())
    metrics: dict[str, Any] = {}
    for label, directory in (("parent_", parent_dir), ("", child_dir)):
        model, config, tokenizer, _ = load_checkpoint(directory, device=device)
        for name, rows in (("feedback", feedback_held), ("base", base_held)):
            if not rows:
                continue
            examples, _ = make_examples(rows, tokenizer, config.max_seq_len)
            if not examples:
                continue
            result = evaluate_loss(
                model, examples, tokenizer, config, 16, None, 0, device
            )
            metrics[f"{label}{name}_heldout_loss"] = round(result["loss"], 4)
            metrics[f"{label}{name}_heldout_perplexity"] = round(
                result["perplexity"], 3
            )
        del model
    return metrics


def _register(job: TrainingJob, directory: Path, metrics, reporter, data_hash: str):
    from webapp.training.services import _record

    directory = Path(directory)
    shutil.rmtree(directory / "resume", ignore_errors=True)
    meta_path = directory / "metadata.json"
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    metadata.update(
        name=f"{job.organization.slug}-ft{job.pk}-{timezone.now():%Y%m%d%H%M%S}",
        parent=job.base_version.name,
        metrics=metrics,
        loss_curve=reporter.curve,
        feedback_data_hash=data_hash,
        training_job=job.pk,
        organization=job.organization.slug,
    )
    tmp = meta_path.with_name("metadata.json.tmp")
    tmp.write_text(
        json.dumps(metadata, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    os.replace(tmp, meta_path)
    # The work folder is deleted after the run; the checkpoint moves (same
    # file system, so a rename) to its own folder under MODEL_DIR first.
    target = Path(settings.MODEL_DIR) / metadata["name"]
    shutil.move(str(directory), str(target))
    try:
        version, _ = do_register_model_version(
            target,
            name=metadata["name"],
            organization=job.organization,
            created_by=job.created_by,
            copy=False,
        )
    except Exception:
        shutil.rmtree(target, ignore_errors=True)
        raise
    if version.parent_id != job.base_version_id:
        version.parent = job.base_version
        version.save(update_fields=["parent"])
    _record(
        job.organization,
        version,
        ModelEventKind.TRAINED,
        job.created_by,
        f"training job {job.pk}",
    )
    return version
