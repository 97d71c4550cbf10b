"""Training from scratch and fine-tuning, nanoGPT-style: one loop, few knobs.

- Data: corpus rows (JSONL/CSV paths or in-memory dicts, see generator.data)
  become prompt + delexicalized target + eos via generator.prompt, so the
  model learns in the format it is asked in. The loss covers only the target
  tokens (and eos); the prompt is context.
- Batches are drawn from length-sorted pools and right-padded to a multiple
  of ``2 * bucket_size`` with an input mask, as LSH attention requires.
- AdamW, linear warm-up then cosine decay to 10% of the peak rate, gradient
  clipping and accumulation, held-out loss/perplexity every ``eval_every``
  steps, early stopping after ``early_stopping_patience`` evaluations without
  improvement. The final checkpoint holds the best held-out weights.
- One seed fixes initialisation, batch order and the LSH random rotations
  (drawn from torch's global generator on every forward pass); evaluation
  uses its own fixed seed so held-out losses are comparable across steps.
- Every ``checkpoint_every`` steps ``out_dir/resume/`` gets a full checkpoint
  plus optimizer state (safetensors + JSON, no pickle); ``resume=True``
  continues from it. The best weights so far are always in ``out_dir``.
  Ctrl-C writes the resume state (and ``out_dir`` if no evaluation has run
  yet) and re-raises; ``should_stop`` returning True stops after the current
  step, writes the resume state and finishes normally.
  ``on_progress(step, total_steps, metrics)`` is called at every log step and
  evaluation.
- The training forward uses LSH attention as configured (recorded in the
  metadata); ReformerLM is reversible, so activations are recomputed in the
  backward pass rather than stored.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F

from generator.checkpoint import (
    load_checkpoint,
    load_training_state,
    save_checkpoint,
    save_training_state,
)
from generator.config import ModelConfig, TrainConfig, get_preset
from generator.data import load_rows, rows_hash
from generator.model import build_model, pad_to_bucket_multiple, pick_device
from generator.prompt import Example, GenerationSpec, build_example, delexicalize
from generator.tokenizer import CopyTokenizer

ProgressFn = Callable[[int, int, dict[str, Any]], None]
StopFn = Callable[[], bool]
Rows = str | Path | Iterable[Any]
MIN_LR_RATIO = 0.1
POOL_BATCHES = 50


class TrainResult(NamedTuple):
    """Where the new checkpoint is, and its metrics (also in its metadata.json)."""

    checkpoint_dir: Path
    metrics: dict[str, Any]


def _spec(row: dict[str, Any]) -> GenerationSpec:
    return GenerationSpec.from_dict(row, strict=False)


def tokenizer_texts(rows: Sequence[dict[str, Any]]) -> Iterable[str]:
    """Everything the tokenizer will see: delexicalized copy and prompt fields."""
    for row in rows:
        spec = _spec(row)
        yield delexicalize(row["text"], spec)
        yield " ".join([", ".join(spec.tone), ", ".join(spec.keywords)])
        yield "; ".join(spec.facts)
        yield " ".join(f"{k}: {v}" for k, v in spec.persona.items())


def make_examples(
    rows: Sequence[dict[str, Any]], tokenizer: CopyTokenizer, max_seq_len: int
) -> tuple[list[Example], int]:
    """Examples that fit max_seq_len (+1 for the shifted target); skip count."""
    examples, skipped = [], 0
    for row in rows:
        example = build_example(_spec(row), row["text"], tokenizer, max_seq_len + 1)
        if example is None:
            skipped += 1
        else:
            examples.append(example)
    return examples, skipped


def collate(
    examples: Sequence[Example], pad_id: int, bucket_size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input ids, input mask, labels); labels are -100 on prompt and padding."""
    length = max(len(e.ids) for e in examples) - 1
    inputs = torch.full((len(examples), length), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), length), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), length), dtype=torch.bool)
    for i, example in enumerate(examples):
        ids = torch.tensor(example.ids, dtype=torch.long)
        n = len(ids) - 1
        inputs[i, :n] = ids[:-1]
        mask[i, :n] = True
        labels[i, example.prompt_len - 1 : n] = ids[example.prompt_len :]
    inputs, mask = pad_to_bucket_multiple(inputs, bucket_size, pad_id, mask)
    labels = F.pad(labels, (0, inputs.shape[1] - labels.shape[1]), value=-100)
    return inputs, mask, labels


def batches_for_epoch(
    examples: Sequence[Example], batch_size: int, seed: int, epoch: int
) -> list[list[int]]:
    """Shuffled batches of similar length: pools of examples are sorted by length."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(examples)))
    rng.shuffle(order)
    pool = batch_size * POOL_BATCHES
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: len(examples[i].ids))
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to MIN_LR_RATIO of the peak."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return MIN_LR_RATIO + (1 - MIN_LR_RATIO) * 0.5 * (1 + math.cos(math.pi * progress))


def target_logits(
    model: Any, inputs: torch.Tensor, mask: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """Logits at the positions selected by ``targets`` (a boolean mask) only.

    The same computation as ``ReformerLM.forward`` (reformer-pytorch 1.4.4),
    except that the output projection, the largest matrix of a small model,
    runs only where a loss is taken: prompt and padding positions are about
    half of every batch.
    """
    x = model.token_emb(inputs)
    x = x + model.pos_emb(x)
    layer_pos_emb = model.layer_pos_emb(x)
    x = model.to_model_dim(x)
    x = model.reformer(x, pos_emb=layer_pos_emb, input_mask=mask)
    x = model.norm(x)
    return model.out(x[targets])


def _loss(model: Any, batch: tuple, device: torch.device) -> tuple[torch.Tensor, int]:
    inputs, mask, labels = (t.to(device) for t in batch)
    targets = labels != -100
    with torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
    ):
        logits = target_logits(model, inputs, mask, targets)
    loss = F.cross_entropy(logits.float(), labels[targets])
    return loss, int(mask.sum())


@torch.no_grad()
def evaluate_loss(
    model: Any,
    examples: Sequence[Example],
    tokenizer: CopyTokenizer,
    config: ModelConfig,
    batch_size: int = 16,
    max_batches: int | None = None,
    seed: int = 0,
    device: Any = None,
) -> dict[str, float]:
    """Mean target-token loss and perplexity on examples, with fixed LSH rotations."""
    device = pick_device(device) if not isinstance(device, torch.device) else device
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].ids))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if max_batches:
        step = max(1, len(batches) // max_batches)
        batches = batches[::step][:max_batches]
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for batch in batches:
            data = collate(
                [examples[i] for i in batch], tokenizer.pad_id, config.bucket_size
            )
            n_targets = int((data[2] != -100).sum())
            loss, _ = _loss(model, data, device)
            total += float(loss) * n_targets
            count += n_targets
    model.train(was_training)
    mean = total / max(1, count)
    return {"loss": mean, "perplexity": math.exp(min(mean, 50.0)), "tokens": count}


def _split(rows: list[dict], seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    order = list(range(len(rows)))
    rng.shuffle(order)
    n = max(1, len(rows) // 20) if len(rows) > 1 else 0
    held = [rows[i] for i in order[:n]]
    return [rows[i] for i in order[n:]] or rows, held or rows


def train(
    train_data: Rows,
    out_dir: str | Path,
    *,
    heldout_data: Rows | None = None,
    preset: str = "tiny",
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    tokenizer: CopyTokenizer | None = None,
    device: str | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    resume: bool = False,
    progress_bar: bool = True,
) -> TrainResult:
    """Train a new model (and tokenizer, unless given) on corpus rows."""
    tc = train_config or TrainConfig()
    rows = load_rows(train_data)
    held = load_rows(heldout_data) if heldout_data is not None else None
    if held is None:
        rows, held = _split(rows, tc.seed)
    base = model_config or get_preset(preset)
    resume_dir = Path(out_dir) / "resume"
    if resume and (resume_dir / "tokenizer.json").is_file():
        tokenizer = CopyTokenizer.load(resume_dir / "tokenizer.json")
    if tokenizer is None:
        tokenizer = CopyTokenizer.train(
            tokenizer_texts(rows), vocab_size=base.vocab_size
        )
    config = dataclasses.replace(base, vocab_size=tokenizer.vocab_size)
    torch.manual_seed(tc.seed)
    model = build_model(config)
    return _run(
        model,
        config,
        tokenizer,
        rows,
        held,
        Path(out_dir),
        tc,
        device=device,
        parent=None,
        on_progress=on_progress,
        should_stop=should_stop,
        resume=resume,
        progress_bar=progress_bar,
    )


def finetune(
    checkpoint_dir: str | Path,
    train_data: Rows,
    out_dir: str | Path,
    *,
    heldout_data: Rows | None = None,
    train_config: TrainConfig | None = None,
    device: str | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    resume: bool = False,
    progress_bar: bool = True,
) -> TrainResult:
    """Continue training a checkpoint on new rows; its tokenizer stays as it is.

    Defaults suit a small brand corpus: a lower peak rate and fewer steps than
    training from scratch.
    """
    tc = train_config or TrainConfig(
        learning_rate=3e-4,
        warmup_steps=20,
        max_steps=300,
        eval_every=50,
        checkpoint_every=100,
    )
    rows = load_rows(train_data)
    held = load_rows(heldout_data) if heldout_data is not None else None
    if held is None:
        rows, held = _split(rows, tc.seed)
    model, config, tokenizer, _ = load_checkpoint(checkpoint_dir, device="cpu")
    model.train()
    return _run(
        model,
        config,
        tokenizer,
        rows,
        held,
        Path(out_dir),
        tc,
        device=device,
        parent=str(Path(checkpoint_dir).resolve()),
        on_progress=on_progress,
        should_stop=should_stop,
        resume=resume,
        progress_bar=progress_bar,
    )


def _run(
    model: Any,
    config: ModelConfig,
    tokenizer: CopyTokenizer,
    rows: list[dict],
    held: list[dict],
    out_dir: Path,
    tc: TrainConfig,
    *,
    device: str | None,
    parent: str | None,
    on_progress: ProgressFn | None,
    should_stop: StopFn | None,
    resume: bool,
    progress_bar: bool,
) -> TrainResult:
    from tqdm.auto import tqdm

    dev = pick_device(device)
    model.to(dev).train()
    examples, skipped = make_examples(rows, tokenizer, config.max_seq_len)
    held_examples, held_skipped = make_examples(held, tokenizer, config.max_seq_len)
    if not examples or not held_examples:
        raise ValueError(
            f"no training or held-out rows fit max_seq_len {config.max_seq_len}"
        )
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": tc.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=tc.learning_rate,
        betas=(0.9, 0.95),
    )
    total = tc.max_steps
    state = {
        "step": 0,
        "epoch": 0,
        "batch": 0,
        "best_loss": math.inf,
        "best_step": 0,
        "bad_evals": 0,
        "tokens_seen": 0,
        "history": [],
    }
    resume_dir = out_dir / "resume"
    if resume and (resume_dir / "trainer_state.json").is_file():
        resumed, _, _, _ = load_checkpoint(resume_dir, device=dev)
        model.load_state_dict(resumed.state_dict())
        model.train()
        state.update(load_training_state(resume_dir, optimizer))
    else:
        torch.manual_seed(tc.seed)
    meta_base = {
        "data_hash": rows_hash(rows),
        "heldout_hash": rows_hash(held),
        "train_rows": len(rows),
        "heldout_rows": len(held),
        "skipped_rows": skipped + held_skipped,
        "parent": parent,
        "preset": config.preset,
        "train_config": tc.to_dict(),
        "attention": (
            f"lsh (bucket_size={config.bucket_size}, n_hashes={config.n_hashes}) "
            "in the training forward, causal"
        ),
        "torch_version": torch.__version__,
        "device": str(dev),
    }
    started = time.monotonic()
    window_tokens, window_start = 0, time.monotonic()
    log_every = max(1, min(10, total // 100))
    metrics: dict[str, Any] = {}
    stop_reason = "max_steps"
    epoch_batches = batches_for_epoch(examples, tc.batch_size, tc.seed, state["epoch"])

    def next_batch() -> tuple:
        nonlocal epoch_batches
        if state["batch"] >= len(epoch_batches):
            state["epoch"] += 1
            state["batch"] = 0
            epoch_batches = batches_for_epoch(
                examples, tc.batch_size, tc.seed, state["epoch"]
            )
        ids = epoch_batches[state["batch"]]
        state["batch"] += 1
        return collate([examples[i] for i in ids], tokenizer.pad_id, config.bucket_size)

    def save(directory: Path, reason: str) -> None:
        meta = {
            **meta_base,
            "steps": state["step"],
            "tokens_seen": state["tokens_seen"],
            "metrics": metrics,
            "stop_reason": reason,
            "training_seconds": round(time.monotonic() - started, 1),
        }
        save_checkpoint(directory, model, config, tokenizer, meta)

    def save_resume(reason: str) -> None:
        save(resume_dir, reason)
        save_training_state(resume_dir, optimizer, state)

    bar = tqdm(
        total=total,
        initial=state["step"],
        disable=not progress_bar,
        desc="train",
        dynamic_ncols=True,
    )
    try:
        while state["step"] < total:
            if should_stop is not None and should_stop():
                stop_reason = "should_stop"
                break
            for group in optimizer.param_groups:
                group["lr"] = tc.learning_rate * lr_factor(
                    state["step"], tc.warmup_steps, total
                )
            loss_sum = 0.0
            for _ in range(tc.grad_accum_steps):
                loss, n_tokens = _loss(model, next_batch(), dev)
                (loss / tc.grad_accum_steps).backward()
                loss_sum += float(loss.detach()) / tc.grad_accum_steps
                window_tokens += n_tokens
                state["tokens_seen"] += n_tokens
            grad_norm = float(
                torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
            )
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            state["step"] += 1
            step = state["step"]
            bar.update(1)
            if step % log_every == 0 or step == total:
                elapsed = max(1e-6, time.monotonic() - window_start)
                metrics.update(
                    train_loss=round(loss_sum, 4),
                    grad_norm=round(grad_norm, 3),
                    lr=optimizer.param_groups[0]["lr"],
                    tokens_per_s=round(window_tokens / elapsed, 1),
                )
                window_tokens, window_start = 0, time.monotonic()
                bar.set_postfix(
                    loss=f"{loss_sum:.3f}", tok_s=f"{metrics['tokens_per_s']:.0f}"
                )
                if on_progress is not None:
                    on_progress(step, total, dict(metrics))
            if step % tc.eval_every == 0 or step == total:
                result = evaluate_loss(
                    model,
                    held_examples,
                    tokenizer,
                    config,
                    tc.batch_size,
                    tc.eval_batches,
                    tc.seed,
                    dev,
                )
                metrics.update(
                    heldout_loss=round(result["loss"], 4),
                    heldout_perplexity=round(result["perplexity"], 3),
                )
                state["history"].append([step, metrics["heldout_loss"]])
                improved = result["loss"] < state["best_loss"] - 1e-4
                if improved:
                    state.update(best_loss=result["loss"], best_step=step, bad_evals=0)
                else:
                    state["bad_evals"] += 1
                metrics.update(
                    best_heldout_loss=round(state["best_loss"], 4),
                    best_step=state["best_step"],
                )
                if improved:
                    # The best weights so far live in out_dir, so a resumed or
                    # interrupted run still ships them.
                    save(out_dir, "in_progress")
                bar.set_postfix(loss=f"{loss_sum:.3f}", val=f"{result['loss']:.3f}")
                if on_progress is not None:
                    on_progress(step, total, dict(metrics))
                if state["bad_evals"] >= tc.early_stopping_patience:
                    stop_reason = "early_stopping"
                    break
            if step % tc.checkpoint_every == 0 and step < total:
                save_resume("periodic")
    except KeyboardInterrupt:
        bar.close()
        save_resume("interrupted")
        if not (out_dir / "metadata.json").is_file():
            save(out_dir, "interrupted")
        raise
    bar.close()
    if stop_reason == "should_stop":
        save_resume(stop_reason)
    # A full evaluation of the weights that will be shipped: the best ones.
    if state["best_step"] and state["best_step"] != state["step"]:
        from safetensors.torch import load_model

        load_model(model, str(out_dir / "model.safetensors"), device=str(dev))
    final = evaluate_loss(
        model, held_examples, tokenizer, config, tc.batch_size, None, tc.seed, dev
    )
    metrics.update(
        heldout_loss=round(final["loss"], 4),
        heldout_perplexity=round(final["perplexity"], 3),
        heldout_tokens=final["tokens"],
        steps=state["step"],
        stop_reason=stop_reason,
        history=state["history"],
    )
    save(out_dir, stop_reason)
    return TrainResult(out_dir, dict(metrics))
