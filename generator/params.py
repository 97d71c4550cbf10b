"""Decoding parameters with Hugging Face ``generate()`` semantics.

This module imports nothing heavy (no torch), so the web process can validate a
request before it is queued for a worker.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from typing import Any

MAX_NEW_TOKENS = 512
MAX_RETURN_SEQUENCES = 50
MAX_BEAMS = 16
MAX_BAD_WORDS = 100
MAX_BAD_WORD_CHARS = 100
SEED_MAX = 2**31 - 1


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class GenerationParams:
    """Every decoding keyword argument, validated on construction.

    Defaults follow Hugging Face ``GenerationConfig`` except ``max_new_tokens``
    (64 suits marketing copy) and ``do_sample`` (True: a copywriter wants
    varied candidates). ``top_k=0`` switches top-k filtering off, as in HF.
    ``seed=None`` means a seed is drawn; ``resolved()`` fixes it so that it can
    be reported with every candidate and the call can be repeated exactly.
    """

    max_new_tokens: int = 64
    min_new_tokens: int = 0
    do_sample: bool = True
    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 1.0
    num_beams: int = 1
    length_penalty: float = 1.0
    early_stopping: bool | str = False
    num_return_sequences: int = 1
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    bad_words: list[str] = field(default_factory=list)
    seed: int | None = None

    def __post_init__(self) -> None:
        self._validate()

    def _validate(self) -> None:
        def need_int(name: str, low: int, high: int | None = None) -> None:
            value = getattr(self, name)
            bound = f"[{low}, {high}]" if high is not None else f">= {low}"
            if not _is_int(value):
                raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
            if value < low or (high is not None and value > high):
                raise ValueError(f"{name} must be in {bound}, got {value}")

        def need_bool(name: str) -> None:
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}")

        need_int("max_new_tokens", 1, MAX_NEW_TOKENS)
        need_int("min_new_tokens", 0, self.max_new_tokens)
        need_bool("do_sample")
        if not _is_number(self.temperature) or not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}")
        need_int("top_k", 0)
        if not _is_number(self.top_p) or not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p!r}")
        need_int("num_beams", 1, MAX_BEAMS)
        if not _is_number(self.length_penalty):
            raise ValueError(
                f"length_penalty must be a number, got {self.length_penalty!r}"
            )
        if not (
            isinstance(self.early_stopping, bool) or self.early_stopping == "never"
        ):
            raise ValueError(
                "early_stopping must be true, false or 'never', "
                f"got {self.early_stopping!r}"
            )
        need_int("num_return_sequences", 1, MAX_RETURN_SEQUENCES)
        if self.num_beams > 1 and self.num_return_sequences > self.num_beams:
            raise ValueError(
                "num_return_sequences must be <= num_beams in beam search, got "
                f"num_return_sequences={self.num_return_sequences} with "
                f"num_beams={self.num_beams}"
            )
        if self.num_beams == 1 and not self.do_sample and self.num_return_sequences > 1:
            raise ValueError(
                "num_return_sequences > 1 needs do_sample=true or num_beams > 1 "
                "(greedy search returns one sequence), got "
                f"num_return_sequences={self.num_return_sequences}"
            )
        if not _is_number(self.repetition_penalty) or not self.repetition_penalty > 0:
            raise ValueError(
                f"repetition_penalty must be > 0, got {self.repetition_penalty!r}"
            )
        need_int("no_repeat_ngram_size", 0)
        self._validate_bad_words()
        if self.seed is not None:
            if not _is_int(self.seed) or not 0 <= self.seed <= SEED_MAX:
                raise ValueError(
                    f"seed must be an integer in [0, {SEED_MAX}] or null, "
                    f"got {self.seed!r}"
                )

    def _validate_bad_words(self) -> None:
        words = self.bad_words
        if isinstance(words, str) or not isinstance(words, (list, tuple)):
            raise ValueError(f"bad_words must be a list of strings, got {words!r}")
        if len(words) > MAX_BAD_WORDS:
            raise ValueError(
                f"bad_words must have at most {MAX_BAD_WORDS} entries, got {len(words)}"
            )
        cleaned = []
        for position, word in enumerate(words):
            if not isinstance(word, str):
                raise ValueError(
                    f"bad_words[{position}] must be a string, got {word!r}"
                )
            word = word.strip()
            if not word:
                raise ValueError(f"bad_words[{position}] must not be empty")
            if len(word) > MAX_BAD_WORD_CHARS:
                raise ValueError(
                    f"bad_words[{position}] must be at most {MAX_BAD_WORD_CHARS} "
                    f"characters, got {len(word)}"
                )
            if "\ufffd" in word:
                raise ValueError(
                    f"bad_words[{position}] must not contain U+FFFD, got {word!r}"
                )
            cleaned.append(word)
        self.bad_words = cleaned

    @property
    def is_beam_search(self) -> bool:
        return self.num_beams > 1

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> GenerationParams:
        """Build from keyword arguments, naming any that are not parameters."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ValueError(
                f"unknown generation parameters: {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        return cls(**kwargs)

    def resolved(self) -> GenerationParams:
        """A copy with the seed fixed (drawn here when it was None)."""
        seed = self.seed if self.seed is not None else secrets.randbelow(SEED_MAX)
        return dataclasses.replace(self, bad_words=list(self.bad_words), seed=seed)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["bad_words"] = list(self.bad_words)
        return data
