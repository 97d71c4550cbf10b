"""Copydesk's ReformerLM copywriter: tokenizer, prompts, training, decoding.

Importing ``generator`` is cheap and torch-free: ``GenerationSpec`` and
``GenerationParams`` validate input in the web process, and ``load_model``
imports torch only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["GenerationParams", "GenerationSpec", "load_model"]

if TYPE_CHECKING:  # pragma: no cover
    from generator.api import load_model
    from generator.params import GenerationParams
    from generator.prompt import GenerationSpec

_LAZY = {
    "load_model": "generator.api",
    "GenerationParams": "generator.params",
    "GenerationSpec": "generator.prompt",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'generator' has no attribute {name!r}")
