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
