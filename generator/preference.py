"""Preference learning: Direct Preference Optimization (DPO) against a frozen reference.

DPO (Rafailov et al., 2023) learns from (prompt, chosen, rejected) triples
without a reward model: with pi the model being trained and ref a frozen copy
of where it started,

    loss = -log sigmoid(beta * ((log pi(chosen) - log ref(chosen))
                                - (log pi(rejected) - log ref(rejected))))

where log p(text) sums the log-probabilities of the text's tokens (and eos)
after the prompt. beta sets how far the model may move from the reference.

Sequences are built by generator.prompt.build_example exactly as in
supervised training (delexicalized targets), and chosen and rejected texts
of a batch go through the model in one padded batch. ReformerLM's LSH
attention draws random rotations on every forward pass, so the policy and
the reference forward of one step start from the same torch seed: both see
the same buckets, and the difference of their log-probabilities measures
the weights, not the hashing.

The web app's training worker runs this after the supervised stage, with the
supervised result as the reference (the usual SFT-then-DPO recipe).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from generator.checkpoint import load_checkpoint, save_checkpoint
from generator.model import pick_device
from generator.prompt import Example, GenerationSpec, build_example
from generator.train import TrainResult, collate

ProgressFn = Callable[[int, int, dict[str, Any]], None]
StopFn = Callable[[], bool]


def sequence_logprobs(
    model: Any, inputs: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Summed log-probability of each row's labelled tokens, shape (batch,)."""
    logits = model(inputs, input_mask=mask).float()
    logprobs = torch.log_softmax(logits, dim=-1)
    targets = labels.clamp(min=0)
    picked = logprobs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return (picked * (labels != -100)).sum(dim=-1)


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    reference_chosen: torch.Tensor,
    reference_rejected: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The DPO loss of a batch and its implicit-reward statistics."""
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    chosen_reward = beta * (policy_chosen - reference_chosen)
    rejected_reward = beta * (policy_rejected - reference_rejected)
    margin = chosen_reward - rejected_reward
    loss = -F.logsigmoid(margin).mean()
    detached = margin.detach()
    return loss, {
        "reward_margin": float(detached.mean()),
        "reward_accuracy": float((detached > 0).float().mean()),
    }


def make_pair_examples(
    pairs: Sequence[dict[str, Any]], tokenizer: Any, max_seq_len: int
) -> tuple[list[tuple[Example, Example]], int]:
    """(chosen, rejected) examples of pairs that fit, and how many were skipped.

    A pair is a dict with ``spec`` (a GenerationSpec dict), ``chosen`` and
    ``rejected`` (texts with literal product names; they are delexicalized).
    """
    examples, skipped = [], 0
    for number, pair in enumerate(pairs, start=1):
        try:
            spec = GenerationSpec.from_dict(pair["spec"], strict=False)
            chosen, rejected = str(pair["chosen"]), str(pair["rejected"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"preference pair {number} is malformed: {exc}") from exc
        good = build_example(spec, chosen, tokenizer, max_seq_len + 1)
        bad = build_example(spec, rejected, tokenizer, max_seq_len + 1)
        if good is None or bad is None:
            skipped += 1
            continue
        examples.append((good, bad))
    return examples, skipped


def _batch_logprobs(model, batch, tokenizer, config, device, seed: int):
    inputs, mask, labels = collate(batch, tokenizer.pad_id, config.bucket_size)
    torch.manual_seed(seed)
    return sequence_logprobs(
        model, inputs.to(device), mask.to(device), labels.to(device)
    )


def preference_finetune(
    checkpoint_dir: str | Path,
    pairs: Sequence[dict[str, Any]],
    out_dir: str | Path,
    *,
    reference_dir: str | Path | None = None,
    steps: int = 60,
    beta: float = 0.1,
    learning_rate: float = 5e-5,
    batch_size: int = 8,
    grad_clip: float = 1.0,
    seed: int = 1337,
    device: str | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> TrainResult:
    """Fine-tune a checkpoint with DPO on preference pairs; writes ``out_dir``.

    The reference is ``reference_dir`` (default: the starting checkpoint),
    frozen. ``should_stop`` returning True ends the run early; the weights
    reached so far are saved.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    dev = pick_device(device)
    model, config, tokenizer, _ = load_checkpoint(checkpoint_dir, device=dev)
    reference, ref_config, _, _ = load_checkpoint(
        reference_dir or checkpoint_dir, device=dev
    )
    if ref_config.to_dict() != config.to_dict():
        raise ValueError("reference and policy checkpoints have different configs")
    reference.eval()
    for parameter in reference.parameters():
        parameter.requires_grad_(False)
    examples, skipped = make_pair_examples(pairs, tokenizer, config.max_seq_len)
    if not examples:
        raise ValueError(
            f"no preference pair fits max_seq_len {config.max_seq_len} "
            f"({len(pairs)} given)"
        )
    model.train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=learning_rate, weight_decay=0.0
    )
    rng = random.Random(seed)
    metrics: dict[str, Any] = {}
    started = time.monotonic()
    stop_reason = "steps"
    step = 0
    for step in range(1, steps + 1):
        if should_stop is not None and should_stop():
            stop_reason = "should_stop"
            step -= 1
            break
        chosen_idx = [rng.randrange(len(examples)) for _ in range(batch_size)]
        batch = [examples[i][0] for i in chosen_idx] + [
            examples[i][1] for i in chosen_idx
        ]
        step_seed = seed * 100_003 + step
        with torch.no_grad():
            ref = _batch_logprobs(reference, batch, tokenizer, config, dev, step_seed)
        policy = _batch_logprobs(model, batch, tokenizer, config, dev, step_seed)
        n = len(chosen_idx)
        loss, stats = dpo_loss(policy[:n], policy[n:], ref[:n], ref[n:], beta)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        metrics = {
            "dpo_loss": round(float(loss.detach()), 4),
            **{k: round(v, 4) for k, v in stats.items()},
        }
        if on_progress is not None:
            on_progress(step, steps, dict(metrics))
    metrics.update(
        steps=step,
        pairs=len(examples),
        skipped_pairs=skipped,
        beta=beta,
        stop_reason=stop_reason,
        seconds=round(time.monotonic() - started, 1),
    )
    model.eval()
    save_checkpoint(
        out_dir,
        model,
        config,
        tokenizer,
        {
            "parent": str(Path(checkpoint_dir).resolve()),
            "objective": "dpo",
            "reference": str(Path(reference_dir or checkpoint_dir).resolve()),
            "preference": dict(metrics),
            "metrics": dict(metrics),
        },
    )
    return TrainResult(Path(out_dir), dict(metrics))
