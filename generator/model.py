"""The ReformerLM model, built from a ModelConfig."""

from __future__ import annotations

import torch
from reformer_pytorch import ReformerLM

from generator.config import ModelConfig


def build_model(config: ModelConfig) -> ReformerLM:
    """A causal ReformerLM with LSH attention, shaped by the config."""
    return ReformerLM(**config.reformer_kwargs())


def pick_device(device: str | None = None) -> torch.device:
    """CUDA when available unless a device is named ("auto", "cpu", "cuda")."""
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def pad_to_bucket_multiple(
    ids: torch.Tensor,
    bucket_size: int,
    pad_id: int = 0,
    input_mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad ``ids`` (batch, seq) to a multiple of ``2 * bucket_size``.

    LSH attention sorts positions into buckets and chunks them in pairs, so the
    normal ReformerLM forward asserts this length. Returns the padded ids and a
    boolean input mask (True for real tokens) to pass as ``input_mask=``; with
    causal attention the padding at the end never changes earlier positions'
    logits beyond LSH's own randomness. ``input_mask`` marks padding already
    present (False) and is extended with False.
    """
    if ids.dim() != 2:
        raise ValueError(f"ids must be (batch, seq), got shape {tuple(ids.shape)}")
    batch, length = ids.shape
    multiple = 2 * bucket_size
    padded = max(multiple, -(-length // multiple) * multiple)
    if input_mask is None:
        input_mask = torch.ones(batch, length, dtype=torch.bool, device=ids.device)
    extra = padded - length
    if extra:
        ids = torch.nn.functional.pad(ids, (0, extra), value=pad_id)
        input_mask = torch.nn.functional.pad(input_mask, (0, extra), value=False)
    return ids, input_mask.bool()
