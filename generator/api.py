"""The public generation API: ``load_model(path).generate(spec, **kwargs)``.

Nothing is cached globally: each :func:`load_model` call builds a new
:class:`Copywriter`, and the web worker keeps its own small LRU of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from generator.decoding import (
    BannedWordError,
    CachedLM,
    Utf8TokenTables,
    find_bad_word,
    generate_tokens,
    normalize_text,
    token_bytes_table,
)
from generator.incremental import IncrementalDecoder
from generator.model import pick_device
from generator.params import GenerationParams
from generator.prompt import (
    BRAND_PLACEHOLDER,
    FACT_PLACEHOLDERS,
    KEYWORD_PLACEHOLDERS,
    PLACEHOLDERS,
    PRODUCT_PLACEHOLDER,
    GenerationSpec,
    build_prompt,
    delexicalize,
    relexicalize,
)

logger = logging.getLogger(__name__)


@dataclass
class Candidate:
    """One generated text and everything needed to reproduce and rank it.

    ``mean_logprob`` is the mean log-probability the model gave the generated
    tokens (end-of-sequence excluded) under its unmodified distribution, so
    candidates from different decoding settings compare fairly.
    """

    text: str
    token_count: int
    mean_logprob: float
    params: dict[str, Any]
    seed: int
    index: int
    prompt_dropped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "token_count": self.token_count,
            "mean_logprob": self.mean_logprob,
            "params": self.params,
            "seed": self.seed,
            "index": self.index,
            "prompt_dropped": list(self.prompt_dropped),
        }


def _spec_values(spec: GenerationSpec) -> dict[str, str]:
    """Placeholder -> the literal text relexicalize puts there."""
    values = {PRODUCT_PLACEHOLDER: spec.product, BRAND_PLACEHOLDER: spec.brand}
    for placeholder, fact in zip(FACT_PLACEHOLDERS, spec.facts, strict=False):
        values[placeholder] = fact
    for placeholder, keyword in zip(KEYWORD_PLACEHOLDERS, spec.keywords, strict=False):
        values[placeholder] = keyword
    return values


def _placeholder_bad_words(spec: GenerationSpec, bad_words: list[str]) -> list[str]:
    """Banned strings in the delexicalized text the model writes.

    The model writes ``{product}`` where the product name goes; a banned word
    could straddle the name and the words around it ("FreeFlow ahead" for a
    banned "flow ahead"). For each placeholder value that overlaps a banned
    word at its start or end, the placeholder spelling of that overlap is
    banned too ("{product} ahead"), so the filled-in text stays clean.
    """
    derived = []
    for placeholder, value in _spec_values(spec).items():
        folded = normalize_text(value)
        if not folded:
            continue
        for word in bad_words:
            w = normalize_text(word)
            for k in range(1, min(len(w), len(folded)) + 1):
                if folded.endswith(w[:k]) and k < len(w):
                    derived.append(placeholder + w[k:])
                if folded.startswith(w[-k:]) and k < len(w):
                    derived.append(w[:-k] + placeholder)
            start = w.find(folded)
            while start != -1:
                derived.append(w[:start] + placeholder + w[start + len(folded) :])
                start = w.find(folded, start + 1)
    return sorted(set(derived))


class Copywriter:
    """A loaded model with its tokenizer, ready to generate and score copy."""

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        config: Any = None,
        metadata: dict[str, Any] | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        self.device = pick_device(device) if device is not None else None
        if self.device is None:
            self.device = model.token_emb.weight.device
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.config = config
        self.metadata = metadata or {}
        self.max_seq_len = model.max_seq_len
        self.decoder = IncrementalDecoder(self.model)
        self._token_bytes: list[bytes] | None = None
        self._utf8_tables: Utf8TokenTables | None = None
        self._off_language: dict[str, list[int]] = {}
        special = set(getattr(tokenizer, "special_ids", ()))
        for name in ("pad_id", "bos_id", "sep_id"):
            if getattr(tokenizer, name, None) is not None:
                special.add(getattr(tokenizer, name))
        special.discard(tokenizer.eos_id)
        self.suppress_ids = sorted(special)

    @property
    def token_bytes(self) -> list[bytes]:
        if self._token_bytes is None:
            vocab = self.model.token_emb.num_embeddings
            table = token_bytes_table(self.tokenizer, self.tokenizer.vocab_size)
            self._token_bytes = table + [b""] * (vocab - len(table))
        return self._token_bytes

    @property
    def utf8_tables(self) -> Utf8TokenTables:
        if self._utf8_tables is None:
            self._utf8_tables = Utf8TokenTables(self.token_bytes)
        return self._utf8_tables

    def _unfilled_placeholder_ids(self, spec: GenerationSpec) -> list[int]:
        """Ids of the placeholders ``spec`` has no value for.

        relexicalize would remove them and leave a gap ("Add, and you get"),
        so the model is never allowed to write them.
        """
        values = _spec_values(spec)
        return [self.tokenizer.token_id(p) for p in PLACEHOLDERS if not values.get(p)]

    def _off_language_ids(self, language: str) -> list[int]:
        """Ids of tokens in a script the spec's language does not use.

        A small model sometimes drifts into the other language of its corpus;
        English copy never needs CJK characters (product names and facts are
        placeholders filled in afterwards), so those tokens are not allowed.
        """
        if language != "en":
            return []
        if language not in self._off_language:
            self._off_language[language] = [
                i for i, raw in enumerate(self.token_bytes) if _has_cjk_bytes(raw)
            ]
        return self._off_language[language]

    def _prompt(
        self, prompt_or_spec: Any, max_new_tokens: int
    ) -> tuple[list[int], GenerationSpec | None, list[str]]:
        room = self.max_seq_len - max_new_tokens
        if isinstance(prompt_or_spec, str):
            ids = self.tokenizer.encode(prompt_or_spec) or [self.tokenizer.bos_id]
            if len(ids) > room:
                raise ValueError(
                    f"prompt is {len(ids)} tokens; with max_new_tokens="
                    f"{max_new_tokens} it must be at most {room} "
                    f"(max_seq_len {self.max_seq_len})"
                )
            return ids, None, []
        if isinstance(prompt_or_spec, dict):
            spec = GenerationSpec.from_dict(prompt_or_spec)
        elif isinstance(prompt_or_spec, GenerationSpec):
            spec = prompt_or_spec
        else:
            raise ValueError(
                "prompt must be a string, a GenerationSpec or a spec dict, "
                f"got {type(prompt_or_spec).__name__}"
            )
        if room < 1:
            raise ValueError(
                f"max_new_tokens must be below max_seq_len ({self.max_seq_len}), "
                f"got {max_new_tokens}"
            )
        prompt = build_prompt(spec, self.tokenizer, room)
        return list(prompt.ids), spec, list(prompt.dropped)

    def generate(self, prompt_or_spec: Any, **kwargs: Any) -> list[Candidate]:
        """Candidates for a spec (or a raw text prompt), HF ``generate()`` style.

        Keyword arguments are :class:`GenerationParams` fields. The same seed
        gives the same candidates on the same machine; without one a seed is
        drawn and reported on every candidate.
        """
        params = GenerationParams.from_kwargs(**kwargs).resolved()
        ids, spec, dropped = self._prompt(prompt_or_spec, params.max_new_tokens)
        banned = list(params.bad_words)
        suppress = list(self.suppress_ids)
        if spec is not None:
            suppress += self._unfilled_placeholder_ids(spec)
            suppress += self._off_language_ids(spec.language)
        if spec is not None and banned:
            for placeholder, value in _spec_values(spec).items():
                word = find_bad_word(value, banned)
                if word is not None:
                    name = placeholder.strip("{}")
                    raise ValueError(
                        f"bad_words entry {word!r} appears in the spec's {name} "
                        f"{value!r}; remove it from one of them"
                    )
            banned += _placeholder_bad_words(spec, banned)
        with torch.inference_mode():
            sequences = generate_tokens(
                CachedLM(self.decoder),
                ids,
                params,
                eos_token_id=self.tokenizer.eos_id,
                pad_token_id=getattr(self.tokenizer, "pad_id", 0) or 0,
                token_bytes=self.token_bytes,
                suppress_tokens=suppress,
                device=self.device,
                bad_words=banned,
                utf8_tables=self.utf8_tables,
            )
        candidates = []
        for sequence in sequences:
            raw = self.tokenizer.decode(sequence.tokens)
            hit = find_bad_word(raw, banned)
            if hit is not None:
                raise BannedWordError(f"banned word {hit!r} reached output {raw!r}")
            text = relexicalize(raw, spec) if spec is not None else raw
            hit = find_bad_word(text, params.bad_words)
            if hit is not None:
                # Only possible through the whitespace tidying of relexicalize
                # joining two placeholders' values; never show such a text.
                logger.warning("dropped a candidate: %r appeared on filling", hit)
                continue
            candidates.append(
                Candidate(
                    text=text,
                    token_count=len(sequence.tokens),
                    mean_logprob=sequence.mean_logprob,
                    params=params.to_dict(),
                    seed=params.seed,
                    index=len(candidates),
                    prompt_dropped=list(dropped),
                )
            )
        return candidates

    def score(self, prompt_or_spec: Any, text: str) -> float:
        """Mean log-probability of ``text`` after the prompt (exact attention).

        Literal product, brand and fact values in ``text`` are turned back into
        placeholders first, since that is what the model was taught to write.
        """
        ids, spec, _ = self._prompt(prompt_or_spec, 1)
        body = delexicalize(text, spec) if spec is not None else text
        target = self.tokenizer.encode(body)
        if not target:
            raise ValueError("text to score must not be empty")
        if len(ids) + len(target) > self.max_seq_len:
            raise ValueError(
                f"prompt and text are {len(ids) + len(target)} tokens, more than "
                f"max_seq_len {self.max_seq_len}"
            )
        full = torch.tensor([ids + target], dtype=torch.long, device=self.device)
        with torch.inference_mode():
            logits = self.decoder(full, self.decoder.new_cache(), all_logits=True)
            logprobs = torch.log_softmax(logits[0, len(ids) - 1 : -1].float(), dim=-1)
            picked = logprobs.gather(1, full[0, len(ids) :, None])
        return float(picked.mean())


def load_model(
    path: str | Path, device: str | torch.device | None = None
) -> Copywriter:
    """Load a checkpoint directory into a :class:`Copywriter` (eval mode)."""
    from generator.checkpoint import load_checkpoint

    chosen = pick_device(device if device is None else str(device))
    model, config, tokenizer, metadata = load_checkpoint(path, device=chosen)
    return Copywriter(model, tokenizer, config=config, metadata=metadata, device=chosen)


# UTF-8 lead bytes of U+3000..U+9FFF (CJK punctuation, kana, ideographs) and the
# two-byte prefixes of the full-width forms U+FF00..U+FF7F.
_CJK_LEAD_BYTES = frozenset(range(0xE3, 0xEA))
_FULLWIDTH_PREFIXES = (b"\xef\xbc", b"\xef\xbd")


def _has_cjk_bytes(raw: bytes) -> bool:
    return any(b in _CJK_LEAD_BYTES for b in raw) or any(
        prefix in raw for prefix in _FULLWIDTH_PREFIXES
    )
