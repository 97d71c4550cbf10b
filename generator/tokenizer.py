"""Byte-level BPE tokenizer (Hugging Face `tokenizers`), saved as tokenizer.json.

Byte-level BPE maps any UTF-8 text to tokens without an unknown token, so
``decode(encode(s)) == s`` for English, Chinese, emoji and everything else
(no normalizer, no prefix space). Chinese gets merges for its frequent
characters and words like any other script; the rest falls back to bytes.

Control codes (``<|sep|>``, ``<|type:slogan|>`` ...) are special tokens that
:meth:`CopyTokenizer.encode` never produces from text: the literal string
``<|sep|>`` in a product fact is encoded as plain bytes, so user text cannot
forge a prompt field. Prompts get control codes by id (:meth:`token_id`).
Placeholders (``{product}``, ``{fact1}`` ...) are ordinary added tokens: one
token each, in the corpus and in generated text alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

from generator.prompt import BOS, EOS, PAD, PLACEHOLDERS, SEP, special_tokens


class CopyTokenizer:
    """A thin, typed wrapper around a `tokenizers.Tokenizer`."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        missing = [
            t
            for t in special_tokens() + list(PLACEHOLDERS)
            if tokenizer.token_to_id(t) is None
        ]
        if missing:
            raise ValueError(f"tokenizer lacks tokens: {', '.join(missing)}")
        tokenizer.encode_special_tokens = True
        self.hf = tokenizer
        self.pad_id = self.token_id(PAD)
        self.bos_id = self.token_id(BOS)
        self.eos_id = self.token_id(EOS)
        self.sep_id = self.token_id(SEP)
        self.special_ids = frozenset(self.token_id(t) for t in special_tokens())

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 4096) -> CopyTokenizer:
        """Learn merges from ``texts``; the vocabulary has at most ``vocab_size``.

        Placeholders are cut out of the training text (they are whole tokens,
        added afterwards), so no merges are wasted on their pieces.
        """
        specials = special_tokens()
        n_fixed = len(specials) + len(PLACEHOLDERS)
        if vocab_size < n_fixed + 256 + 1:
            raise ValueError(
                f"vocab_size must be at least {n_fixed + 257}, got {vocab_size}"
            )
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(
            add_prefix_space=False, use_regex=True
        )
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size - len(PLACEHOLDERS),
            min_frequency=2,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )

        def stripped() -> Iterable[str]:
            for text in texts:
                for placeholder in PLACEHOLDERS:
                    text = text.replace(placeholder, " ")
                yield text

        tok.train_from_iterator(stripped(), trainer)
        tok.add_tokens(
            [AddedToken(p, normalized=False, special=False) for p in PLACEHOLDERS]
        )
        return cls(tok)

    @property
    def vocab_size(self) -> int:
        return self.hf.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; never produces control codes."""
        return self.hf.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Text of ``ids``; control codes are left out unless asked for."""
        return self.hf.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def token_id(self, token: str) -> int:
        """Id of a control code or placeholder; KeyError if unknown."""
        token_id = self.hf.token_to_id(token)
        if token_id is None:
            raise KeyError(f"unknown token {token!r}")
        return token_id

    def id_to_token(self, token_id: int) -> str | None:
        return self.hf.id_to_token(token_id)

    def save(self, path: str | Path) -> None:
        """Write tokenizer.json to ``path`` (a file path)."""
        self.hf.save(str(path))

    @classmethod
    def load(cls, path: str | Path) -> CopyTokenizer:
        """Read a tokenizer.json; ValueError if it is not one of ours."""
        try:
            raw = Path(path).read_text(encoding="utf-8")
            json.loads(raw)
            tok = Tokenizer.from_str(raw)
        except Exception as exc:  # tokenizers raises plain Exception
            raise ValueError(f"cannot read tokenizer {path}: {exc}") from exc
        return cls(tok)
