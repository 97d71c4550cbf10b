"""generator.preference: the DPO loss and a DPO run on a real micro model."""

import math

import pytest
import torch

from generator.checkpoint import load_checkpoint
from generator.preference import (
    dpo_loss,
    make_pair_examples,
    preference_finetune,
    sequence_logprobs,
)
from generator.train import collate

SPEC = {"content_type": "slogan", "language": "en", "product": "Acme Blender"}


def test_dpo_loss_matches_the_formula():
    loss, stats = dpo_loss(
        torch.tensor([-10.0]),
        torch.tensor([-12.0]),
        torch.tensor([-11.0]),
        torch.tensor([-11.0]),
        beta=0.5,
    )
    # margin = 0.5 * ((-10 + 11) - (-12 + 11)) = 1
    assert loss.item() == pytest.approx(-math.log(1 / (1 + math.exp(-1.0))))
    assert stats == {"reward_margin": 1.0, "reward_accuracy": 1.0}
    with pytest.raises(ValueError, match="beta must be positive"):
        dpo_loss(torch.zeros(1), torch.zeros(1), torch.zeros(1), torch.zeros(1), 0)


def _margin(directory, pairs):
    model, config, tokenizer, _ = load_checkpoint(directory, device="cpu")
    examples, _ = make_pair_examples(pairs, tokenizer, config.max_seq_len)
    batch = [e[0] for e in examples] + [e[1] for e in examples]
    inputs, mask, labels = collate(batch, tokenizer.pad_id, config.bucket_size)
    torch.manual_seed(0)
    with torch.no_grad():
        logprobs = sequence_logprobs(model, inputs, mask, labels)
    n = len(examples)
    return float((logprobs[:n] - logprobs[n:]).mean())


def test_dpo_raises_the_chosen_over_rejected_margin(trained_tiny_checkpoint, tmp_path):
    pairs = [
        {"spec": SPEC, "chosen": "Blend it fresh today?", "rejected": "Blend it."},
        {"spec": SPEC, "chosen": "Ready for smoothies?", "rejected": "Smoothies."},
    ]
    before = _margin(trained_tiny_checkpoint, pairs)
    progress = []
    result = preference_finetune(
        trained_tiny_checkpoint,
        pairs,
        tmp_path / "dpo",
        steps=15,
        beta=0.5,
        learning_rate=3e-3,
        batch_size=2,
        device="cpu",
        on_progress=lambda step, total, metrics: progress.append(metrics["dpo_loss"]),
    )
    after = _margin(result.checkpoint_dir, pairs)
    assert after > before + 0.5, (before, after)
    assert len(progress) == 15 and progress[-1] < progress[0]
    assert result.metrics["pairs"] == 2 and result.metrics["stop_reason"] == "steps"


def test_malformed_pairs_are_named(trained_tiny_checkpoint, tmp_path):
    with pytest.raises(ValueError, match="preference pair 1 is malformed"):
        preference_finetune(
            trained_tiny_checkpoint, [{"chosen": "x"}], tmp_path / "x", steps=1
        )
