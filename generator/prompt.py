"""The prompt format: control codes, generation specs, delexicalization.

A prompt is a short run of control-code tokens and field values, ended by
``<|sep|>``; the model writes the copy after it and ends with ``<|eos|>``.
The same :func:`build_prompt` makes training examples (prompt + target + eos,
see :func:`build_example`) and generation prompts, so the model is always
asked in exactly the words it was taught.

Layout (field order; every field but content type and language is optional)::

    <|bos|> <|type:social_post|> <|lang:en|> <|channel:social|>
    <|tone|> playful, bold
    <|persona|> name: Busy parents; age: 30-45; interests: cooking
    <|brand|> {brand}
    <|product|> {product}
    <|facts|> {fact1} 15-minute recipes; {fact2} free delivery
    <|keywords|> {kw1} meal kit, {kw2} dinner
    <|sep|>

Control codes are single special tokens that user text can never produce
(the tokenizer encodes the literal string ``<|sep|>`` as plain bytes), so a
product fact cannot inject a field.

Delexicalized training. A tiny model cannot learn to spell arbitrary product
names or facts, so the corpus writes ``{product}``, ``{brand}`` and
``{fact1}`` ... ``{fact5}`` in place of them. The prompt carries the same
placeholders, and each fact's words after its placeholder, because the facts
are the only thing that says what the product is (headphones or coffee): the
model reads them to pick fitting benefits and writes the placeholder where
the fact goes. Keywords work the same way (``{kw1}`` ...): a small model
copies a placeholder it was shown far more reliably than a phrase, so asked
for keywords really appear. After generation :func:`relexicalize` fills in
the real values, so names, facts and keywords in the output are always
exactly what the person typed. :func:`delexicalize` turns a user's own
corpus row (with literal names) into that form. Tone words and persona stay
literal: they shape the wording rather than appear in it.

Truncation. When a prompt would exceed ``max_prompt_tokens`` (the room left
after the output budget), the least important parts are dropped first, in
:data:`DROP_ORDER`: persona entries (last first), tone words (last first),
channel, keywords (last first), facts (last first), brand, product. Content
type and language are never dropped. :attr:`Prompt.dropped` lists every field
that lost something, in the order it happened, so the caller can say so.

Lengths. :data:`LENGTH_LIMITS` gives ``(min_chars, max_chars)`` per content
type, counted by :func:`copy_length`: a wide (CJK, full-width, emoji)
character counts as 2, as ad platforms count them, so one table serves
English and Chinese.

This module imports neither torch nor tokenizers, so the web process can
validate specs cheaply.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

CONTENT_TYPES: tuple[str, ...] = (
    "ad_headline",
    "ad_description",
    "slogan",
    "product_description",
    "social_post",
    "email_subject",
    "video_script",
)
LANGUAGES: tuple[str, ...] = ("en", "zh")
# Same keys as webapp.campaigns.models.Channel.
CHANNELS: tuple[str, ...] = (
    "search",
    "social",
    "display",
    "email",
    "website",
    "video",
    "marketplace",
)

# (min_chars, max_chars) as counted by copy_length (wide characters count 2).
LENGTH_LIMITS: dict[str, tuple[int, int]] = {
    "ad_headline": (10, 60),
    "ad_description": (30, 200),
    "slogan": (6, 60),
    "product_description": (100, 700),
    "social_post": (40, 400),
    "email_subject": (8, 80),
    "video_script": (150, 900),
}

MAX_FACTS = 5
MAX_KEYWORDS = 5
PAD, BOS, EOS, SEP = "<|pad|>", "<|bos|>", "<|eos|>", "<|sep|>"
FIELD_TOKENS = {
    "tone": "<|tone|>",
    "persona": "<|persona|>",
    "brand": "<|brand|>",
    "product": "<|product|>",
    "facts": "<|facts|>",
    "keywords": "<|keywords|>",
}
PRODUCT_PLACEHOLDER = "{product}"
BRAND_PLACEHOLDER = "{brand}"
FACT_PLACEHOLDERS = tuple(f"{{fact{i}}}" for i in range(1, MAX_FACTS + 1))
KEYWORD_PLACEHOLDERS = tuple(f"{{kw{i}}}" for i in range(1, MAX_KEYWORDS + 1))
PLACEHOLDERS: tuple[str, ...] = (
    PRODUCT_PLACEHOLDER,
    BRAND_PLACEHOLDER,
    *FACT_PLACEHOLDERS,
    *KEYWORD_PLACEHOLDERS,
)
# Least important first. Entries of list-like fields go one at a time, last first.
DROP_ORDER: tuple[str, ...] = (
    "persona",
    "tone",
    "channel",
    "keywords",
    "facts",
    "brand",
    "product",
)
_PLACEHOLDER_RE = re.compile(r"\{(product|brand|fact[1-9]|kw[1-9])\}")


def type_token(content_type: str) -> str:
    return f"<|type:{content_type}|>"


def lang_token(language: str) -> str:
    return f"<|lang:{language}|>"


def channel_token(channel: str) -> str:
    return f"<|channel:{channel}|>"


def special_tokens() -> list[str]:
    """Every control code, in a fixed order (pad, bos, eos, sep first)."""
    return [
        PAD,
        BOS,
        EOS,
        SEP,
        *(type_token(c) for c in CONTENT_TYPES),
        *(lang_token(lang) for lang in LANGUAGES),
        *(channel_token(c) for c in CHANNELS),
        *FIELD_TOKENS.values(),
    ]


def copy_length(text: str) -> int:
    """Length as ad platforms count it: wide and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _str_list(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings, got {value!r}")
    return [v.strip() for v in value if v.strip()]


@dataclass
class GenerationSpec:
    """What to write: the fields that become control codes in the prompt."""

    content_type: str
    language: str = "en"
    channel: str = ""
    tone: list[str] = field(default_factory=list)
    persona: dict[str, Any] = field(default_factory=dict)
    brand: str = ""
    product: str = ""
    facts: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.content_type not in CONTENT_TYPES:
            raise ValueError(
                f"content_type must be one of {', '.join(CONTENT_TYPES)}, "
                f"got {self.content_type!r}"
            )
        if self.language not in LANGUAGES:
            raise ValueError(
                f"language must be one of {', '.join(LANGUAGES)}, got {self.language!r}"
            )
        if not isinstance(self.channel, str) or (
            self.channel and self.channel not in CHANNELS
        ):
            raise ValueError(
                f"channel must be empty or one of {', '.join(CHANNELS)}, "
                f"got {self.channel!r}"
            )
        for name in ("brand", "product"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(
                    f"{name} must be a string, got {getattr(self, name)!r}"
                )
            setattr(self, name, getattr(self, name).strip())
        self.tone = _str_list("tone", self.tone)
        self.facts = _str_list("facts", self.facts)
        self.keywords = _str_list("keywords", self.keywords)
        if not isinstance(self.persona, dict):
            raise ValueError(f"persona must be an object, got {self.persona!r}")
        for key, value in self.persona.items():
            ok = isinstance(value, str | int) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            )
            if not isinstance(key, str) or not ok:
                raise ValueError(
                    "persona values must be strings, numbers or lists of strings, "
                    f"got {key!r}: {value!r}"
                )

    @classmethod
    def from_dict(cls, data: dict[str, Any], strict: bool = True) -> GenerationSpec:
        """Build from a dict (API payload, corpus row); unknown keys raise if strict."""
        if not isinstance(data, dict):
            raise ValueError(f"spec must be an object, got {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if strict and unknown:
            raise ValueError(f"unknown spec fields: {', '.join(sorted(unknown))}")
        if "content_type" not in data:
            raise ValueError("content_type is required")
        values = {k: v for k, v in data.items() if k in known}
        for key in ("channel", "brand", "product"):
            if values.get(key) is None:
                values.pop(key, None)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TokenizerLike(Protocol):
    """What the prompt builder needs from generator.tokenizer.CopyTokenizer."""

    def encode(self, text: str) -> list[int]: ...

    def token_id(self, token: str) -> int: ...


@dataclass
class Prompt:
    """Token ids of a prompt, its readable text, and the fields that were dropped."""

    ids: list[int]
    text: str
    dropped: list[str] = field(default_factory=list)


def _persona_entries(persona: dict[str, Any]) -> list[str]:
    entries = []
    for key, value in persona.items():
        if isinstance(value, list):
            value = ", ".join(v for v in value if v)
        value = str(value).strip()
        if value:
            entries.append(f"{key.replace('_', ' ')}: {value}")
    return entries


def _render(parts: dict[str, Any], spec: GenerationSpec) -> list[tuple[str, str]]:
    """(control token or None, value text) pairs in prompt order."""
    out: list[tuple[str, str]] = [
        (BOS, ""),
        (type_token(spec.content_type), ""),
        (lang_token(spec.language), ""),
    ]
    if parts["channel"]:
        out.append((channel_token(parts["channel"]), ""))
    if parts["tone"]:
        out.append((FIELD_TOKENS["tone"], ", ".join(parts["tone"])))
    if parts["persona"]:
        out.append((FIELD_TOKENS["persona"], "; ".join(parts["persona"])))
    if parts["brand"]:
        out.append((FIELD_TOKENS["brand"], BRAND_PLACEHOLDER))
    if parts["product"]:
        out.append((FIELD_TOKENS["product"], PRODUCT_PLACEHOLDER))
    if parts["facts"]:
        out.append((FIELD_TOKENS["facts"], "; ".join(parts["facts"])))
    if parts["keywords"]:
        out.append((FIELD_TOKENS["keywords"], ", ".join(parts["keywords"])))
    out.append((SEP, ""))
    return out


def _spaced(value: str) -> str:
    """Values read as words after a space; placeholders are whole tokens already."""
    return value if not value or value.startswith("{") else " " + value


def build_prompt(
    spec: GenerationSpec, tokenizer: TokenizerLike, max_prompt_tokens: int
) -> Prompt:
    """The prompt for ``spec`` in at most ``max_prompt_tokens`` tokens.

    Fields are dropped in DROP_ORDER until it fits; ValueError if even content
    type and language do not fit.
    """
    parts: dict[str, Any] = {
        "channel": spec.channel,
        "tone": list(spec.tone),
        "persona": _persona_entries(spec.persona),
        "brand": bool(spec.brand),
        "product": bool(spec.product),
        "facts": [
            f"{placeholder} {fact}"
            for placeholder, fact in zip(FACT_PLACEHOLDERS, spec.facts, strict=False)
        ],
        "keywords": [
            f"{placeholder} {keyword}"
            for placeholder, keyword in zip(
                KEYWORD_PLACEHOLDERS, spec.keywords, strict=False
            )
        ],
    }
    dropped: list[str] = []
    if len(spec.keywords) > MAX_KEYWORDS:
        dropped.append("keywords")
    if len(spec.facts) > MAX_FACTS:
        dropped.append("facts")
    while True:
        rendered = _render(parts, spec)
        ids: list[int] = []
        for token, value in rendered:
            ids.append(tokenizer.token_id(token))
            if value:
                ids.extend(tokenizer.encode(_spaced(value)))
        if len(ids) <= max_prompt_tokens:
            text = "".join(t + _spaced(v) for t, v in rendered)
            return Prompt(ids=ids, text=text, dropped=dropped)
        for name in DROP_ORDER:
            if parts[name]:
                if isinstance(parts[name], list):
                    parts[name].pop()
                else:
                    parts[name] = "" if name == "channel" else False
                if name not in dropped:
                    dropped.append(name)
                break
        else:
            raise ValueError(
                f"max_prompt_tokens must be at least {len(ids)} for content type "
                f"and language alone, got {max_prompt_tokens}"
            )


@dataclass
class Example:
    """A training example: prompt + target + eos, and where the target starts."""

    ids: list[int]
    prompt_len: int


def build_example(
    spec: GenerationSpec, text: str, tokenizer: TokenizerLike, max_seq_len: int
) -> Example | None:
    """Prompt + delexicalized target + eos, or None if the target cannot fit.

    The prompt gets whatever room the target leaves, truncated exactly as at
    generation time.
    """
    target = tokenizer.encode(delexicalize(text, spec)) + [tokenizer.token_id(EOS)]
    room = max_seq_len - len(target)
    try:
        prompt = build_prompt(spec, tokenizer, room)
    except ValueError:
        return None
    return Example(ids=prompt.ids + target, prompt_len=len(prompt.ids))


def delexicalize(text: str, spec: GenerationSpec) -> str:
    """Replace the spec's literal product, brand and facts in ``text`` by placeholders.

    Longer values go first so a fact containing the product name stays whole.
    Text that already uses placeholders is unchanged.
    """
    values = [(spec.product, PRODUCT_PLACEHOLDER), (spec.brand, BRAND_PLACEHOLDER)]
    values += list(zip(spec.facts[:MAX_FACTS], FACT_PLACEHOLDERS, strict=False))
    values += list(
        zip(spec.keywords[:MAX_KEYWORDS], KEYWORD_PLACEHOLDERS, strict=False)
    )
    for value, placeholder in sorted(values, key=lambda p: -len(p[0])):
        if value:
            text = re.sub(re.escape(value), placeholder, text, flags=re.IGNORECASE)
    return text


def unfilled_placeholders(text: str, spec: GenerationSpec) -> list[str]:
    """Placeholders in ``text`` that the spec has no value for."""
    values = _placeholder_values(spec)
    return [
        m.group(0) for m in _PLACEHOLDER_RE.finditer(text) if not values.get(m.group(0))
    ]


def _placeholder_values(spec: GenerationSpec) -> dict[str, str]:
    values = {PRODUCT_PLACEHOLDER: spec.product, BRAND_PLACEHOLDER: spec.brand}
    values.update(zip(FACT_PLACEHOLDERS, spec.facts, strict=False))
    values.update(zip(KEYWORD_PLACEHOLDERS, spec.keywords, strict=False))
    return values


def relexicalize(text: str, spec: GenerationSpec) -> str:
    """Fill placeholders with the spec's values.

    A placeholder the spec has no value for (a brand when none was given, a
    third fact of two) is removed, and the spaces around it tidied, so no
    ``{...}`` ever reaches a reader. A value that starts a sentence gets a
    capital letter ("A 40-hour battery means ..."). {brand} falls back to
    nothing, not to the product, because "by Aurora X2" reads worse than a
    missing phrase.
    """
    values = _placeholder_values(spec)

    def fill(match: re.Match) -> str:
        value = values.get(match.group(0), "")
        if not value:
            return "\0"
        before = text[: match.start()].rstrip(" ")
        if not before or before[-1] in ".!?\n":
            value = value[:1].upper() + value[1:]
        return value

    out = _PLACEHOLDER_RE.sub(fill, text)
    if "\0" in out:
        out = re.sub(r"[ \t]*\0[ \t]*", " ", out)
        out = re.sub(r" +([,.!?;:，。！？；：])", r"\1", out)
        out = re.sub(r"[ \t]{2,}", " ", out).strip()
    return out
