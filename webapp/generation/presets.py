"""Creativity presets (generate page and job API), mapped to decoding parameters.

A marketer picks how adventurous the copy may be; these are the parameters
behind each choice (Hugging Face ``generate()`` meaning, see generator.params):

- safe: low temperature (0.7) and a tight nucleus (top_p 0.85, top_k 40) keep
  to the model's most likely wording; a strong repetition penalty (1.2) and no
  repeated trigrams. Few surprises, fewest odd words. For regulated products.
- balanced: temperature 0.9, top_p 0.92, top_k 50, repetition penalty 1.15:
  varied candidates that still read naturally. The default.
- bold: temperature 1.15 with a wide nucleus (top_p 0.97) and top-k off (0):
  unusual word choices and more diverse candidates, with more to reject.

All presets sample (do_sample) so that several candidates differ, and none
sets a seed, so each launch draws one (it is stored with every candidate).
"""

from __future__ import annotations

from generator.prompt import LENGTH_LIMITS

PRESETS: dict[str, dict] = {
    "safe": {
        "do_sample": True,
        "temperature": 0.7,
        "top_p": 0.85,
        "top_k": 40,
        "repetition_penalty": 1.2,
        "no_repeat_ngram_size": 3,
    },
    "balanced": {
        "do_sample": True,
        "temperature": 0.9,
        "top_p": 0.92,
        "top_k": 50,
        "repetition_penalty": 1.15,
        "no_repeat_ngram_size": 3,
    },
    "bold": {
        "do_sample": True,
        "temperature": 1.15,
        "top_p": 0.97,
        "top_k": 0,
        "repetition_penalty": 1.05,
        "no_repeat_ngram_size": 2,
    },
}
PRESET_CHOICES = [
    ("safe", "Safe: close to the brand's usual wording"),
    ("balanced", "Balanced: varied but natural"),
    ("bold", "Bold: surprising, more to reject"),
]
DEFAULT_PRESET = "balanced"
# Roughly 3 characters per token of the shipped tokenizer, so the longest copy
# a content type allows fits; at least 16 and at most the generator's 512.
CHARS_PER_TOKEN = 3


def default_max_new_tokens(content_type: str) -> int:
    _, max_chars = LENGTH_LIMITS.get(content_type, (0, 192))
    return max(16, min(512, max_chars // CHARS_PER_TOKEN))


def params_for(preset: str, content_type: str, overrides: dict | None = None) -> dict:
    """The preset's parameters for a content type, with advanced overrides."""
    params = dict(PRESETS[preset])
    params["max_new_tokens"] = default_max_new_tokens(content_type)
    params.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return params
