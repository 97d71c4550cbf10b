"""Hugging Face-style decoding: logits processors, sampling, greedy, beam search.

Each processor is a callable ``(input_ids, scores) -> scores`` that behaves
like its ``transformers`` namesake. ``input_ids`` is (batch, length) and holds
the prompt followed by what was generated so far; ``scores`` is
(batch, vocab). The search functions drive any :class:`StepModel` (the cached
ReformerLM of :mod:`generator.incremental`, or a table in tests), running all
return sequences or beams of one call as one batch.

Banned words (``bad_words``) are enforced on *text*, not on token sequences as
in Hugging Face: a word is banned as a case-insensitive substring
(``str.casefold``) of the decoded continuation, whatever tokens spell it, so
"free" also bans "FREE", "Free", "fReE", "carefree" and "freedom". Substring,
not whole word, is the deliberate choice: the product promise is that the
string never appears, it works for Chinese (no spaces) and for phrases, and a
marketer who bans "free" rarely wants "freedom" through. See
:class:`BadWordsLogitsProcessor` for how it is done per step without decoding
every vocabulary entry.
"""

from __future__ import annotations

import bisect
import codecs
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch
import torch.nn.functional as F

from generator.params import GenerationParams

LogitsProcessor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
NEG_INF = float("-inf")


# ---------------------------------------------------------------- warpers


class TemperatureLogitsWarper:
    """Divide scores by the temperature (> 0), as HF does."""

    def __init__(self, temperature: float) -> None:
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return scores / self.temperature


class TopKLogitsWarper:
    """Keep the ``top_k`` highest scores (an absolute count), ties kept."""

    def __init__(
        self, top_k: int, filter_value: float = NEG_INF, min_tokens_to_keep: int = 1
    ) -> None:
        if not isinstance(top_k, int) or top_k <= 0:
            raise ValueError(f"top_k must be a positive integer, got {top_k}")
        self.top_k = max(top_k, min_tokens_to_keep)
        self.filter_value = filter_value

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        top_k = min(self.top_k, scores.size(-1))
        kth = torch.topk(scores, top_k)[0][..., -1, None]
        return scores.masked_fill(scores < kth, self.filter_value)


class TopPLogitsWarper:
    """Nucleus filtering: keep the smallest set whose probability >= top_p.

    Mirrors HF: sort ascending, drop tokens whose cumulative probability is
    <= 1 - top_p, always keep ``min_tokens_to_keep`` best tokens.
    """

    def __init__(
        self, top_p: float, filter_value: float = NEG_INF, min_tokens_to_keep: int = 1
    ) -> None:
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        self.top_p = float(top_p)
        self.filter_value = filter_value
        self.min_tokens_to_keep = min_tokens_to_keep

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        sorted_logits, sorted_indices = torch.sort(scores, descending=False)
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        remove = cumulative <= (1 - self.top_p)
        remove[..., -self.min_tokens_to_keep :] = False
        remove = remove.scatter(1, sorted_indices, remove)
        return scores.masked_fill(remove, self.filter_value)


# ------------------------------------------------------------- processors


class RepetitionPenaltyLogitsProcessor:
    """CTRL's penalty on every token already in ``input_ids`` (prompt too)."""

    def __init__(self, penalty: float) -> None:
        if not penalty > 0:
            raise ValueError(f"repetition_penalty must be > 0, got {penalty}")
        self.penalty = float(penalty)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        score = torch.gather(scores, 1, input_ids)
        score = torch.where(score < 0, score * self.penalty, score / self.penalty)
        return scores.scatter(1, input_ids, score)


class NoRepeatNGramLogitsProcessor:
    """Ban tokens that would repeat an n-gram already in ``input_ids``."""

    def __init__(self, ngram_size: int) -> None:
        if not isinstance(ngram_size, int) or ngram_size <= 0:
            raise ValueError(f"no_repeat_ngram_size must be > 0, got {ngram_size}")
        self.ngram_size = ngram_size

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        n = self.ngram_size
        length = input_ids.shape[1]
        if length + 1 < n:
            return scores
        scores = scores.clone()
        for row, ids in enumerate(input_ids.tolist()):
            seen: dict[tuple[int, ...], list[int]] = {}
            for start in range(length - n + 1):
                gram = ids[start : start + n]
                seen.setdefault(tuple(gram[:-1]), []).append(gram[-1])
            banned = seen.get(tuple(ids[length - n + 1 :]), [])
            if banned:
                scores[row, banned] = NEG_INF
        return scores


class MinNewTokensLengthLogitsProcessor:
    """Forbid end-of-sequence until ``min_new_tokens`` tokens were generated."""

    def __init__(
        self, prompt_length_to_skip: int, min_new_tokens: int, eos_token_id: int
    ) -> None:
        self.prompt_length_to_skip = prompt_length_to_skip
        self.min_new_tokens = min_new_tokens
        self.eos_token_id = eos_token_id

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        new_tokens = input_ids.shape[-1] - self.prompt_length_to_skip
        if new_tokens < self.min_new_tokens:
            scores = scores.clone()
            scores[:, self.eos_token_id] = NEG_INF
        return scores


class SuppressTokensLogitsProcessor:
    """Never generate these ids (pad, bos, sep, control codes)."""

    def __init__(self, suppress_tokens: Sequence[int]) -> None:
        self.suppress_tokens = sorted(set(int(t) for t in suppress_tokens))

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if not self.suppress_tokens:
            return scores
        scores = scores.clone()
        scores[:, self.suppress_tokens] = NEG_INF
        return scores


# -------------------------------------------------------------- bad words


def normalize_text(text: str) -> str:
    """The form banned words are matched in: Unicode case folding.

    ``casefold`` works code point by code point, so the folded text of a
    concatenation is the concatenation of the folded parts; the per-step
    check relies on that.
    """
    return text.casefold()


def find_bad_word(text: str, bad_words: Sequence[str]) -> str | None:
    """The first banned word that occurs in ``text`` (case-insensitive), if any."""
    folded = normalize_text(text)
    for word in bad_words:
        if normalize_text(word) in folded:
            return word
    return None


class BannedWordError(RuntimeError):
    """A banned word reached decoded output; enforcement has a bug."""


def _utf8_decoder(pending: bytes = b""):
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    if pending:
        decoder.setstate((pending, 0))
    return decoder


def _decode_partial(data: bytes, pending: bytes = b"") -> tuple[str, bytes]:
    """Text of the complete characters of ``pending + data`` and what is left."""
    decoder = _utf8_decoder(pending)
    text = decoder.decode(data, final=False)
    return text, decoder.getstate()[0]


@dataclass(frozen=True)
class _VocabTexts:
    texts: list[str]
    sorted_texts: list[str]
    order: torch.Tensor
    continuation_ids: list[int]


@functools.lru_cache(maxsize=8)
def _vocab_texts(token_bytes: tuple[bytes, ...]) -> _VocabTexts:
    """Folded text of every token, sorted for prefix look-ups.

    It depends on the vocabulary only, so it is computed once per tokenizer
    instead of on every generate() call (it took ~35 ms of a 0.3 s job).
    """
    texts = [normalize_text(_decode_partial(b)[0]) for b in token_bytes]
    order = sorted(range(len(texts)), key=texts.__getitem__)
    return _VocabTexts(
        texts=texts,
        sorted_texts=[texts[i] for i in order],
        order=torch.tensor(order, dtype=torch.long),
        continuation_ids=[
            i for i, b in enumerate(token_bytes) if b and 0x80 <= b[0] <= 0xBF
        ],
    )


def token_bytes_table(tokenizer, vocab_size: int | None = None) -> list[bytes]:
    """The bytes each token id contributes to ``tokenizer.decode`` output.

    For a Hugging Face byte-level BPE (our CopyTokenizer) this is exact: the
    decoder concatenates the tokens' bytes and decodes them as UTF-8 with
    replacement, special tokens contribute nothing, added tokens their text.
    Any other tokenizer falls back to ``decode([id])``, which is exact for
    tokenizers whose tokens each decode to whole characters.
    """
    if hasattr(tokenizer, "token_bytes"):
        size = vocab_size or tokenizer.vocab_size
        return [bytes(tokenizer.token_bytes(i)) for i in range(size)]
    hf = getattr(tokenizer, "hf", None)
    size = vocab_size or tokenizer.vocab_size
    try:
        from tokenizers import Tokenizer, decoders
    except ImportError:  # pragma: no cover - tokenizers is a dependency
        Tokenizer = None  # noqa: N806
    if (
        Tokenizer is not None
        and isinstance(hf, Tokenizer)
        and isinstance(hf.decoder, decoders.ByteLevel)
    ):
        byte_of = {char: byte for byte, char in _bytes_to_unicode().items()}
        added = hf.get_added_tokens_decoder()
        table = []
        for i in range(size):
            if i in added:
                token = added[i]
                table.append(b"" if token.special else token.content.encode("utf-8"))
                continue
            piece = hf.id_to_token(i)
            if piece is None:
                table.append(b"")
            else:
                table.append(bytes(byte_of[c] for c in piece))
        return table
    return [tokenizer.decode([i]).encode("utf-8") for i in range(size)]


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character map used by byte-level BPE."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


class BadWordsLogitsProcessor:
    """Mask every next token that would make a banned word appear in the text.

    State of a row is derived from its ids each step (so beam reordering needs
    no bookkeeping): the folded tail of the decoded continuation (the last few
    dozen characters) and the bytes of an unfinished UTF-8 character, if the
    last token ended inside one. A candidate token can only create a *new*
    occurrence that ends inside its own text, so it is banned when

    * its own text contains a banned word (precomputed, one mask), or
    * the tail ends with a prefix ``w[:k]`` of a banned word and the token's
      text starts with the rest ``w[k:]``: all tokens starting with a given
      string are one range of the vocabulary sorted by text, found by bisect
      and precomputed per (word, k), or
    * an unfinished character is pending: only tokens starting with a UTF-8
      continuation byte can complete it, and those few are decoded one by
      one; any other token turns the pending bytes into U+FFFD, which no
      banned word contains.

    A word split over many tokens is caught at the token that completes it,
    whichever tokenization the model chose. Special tokens contribute no text
    (they are skipped when decoding), exactly as in the final text.
    """

    def __init__(
        self, bad_words: Sequence[str], token_bytes: Sequence[bytes], prompt_length: int
    ) -> None:
        words = sorted({normalize_text(w) for w in bad_words if w})
        if not words:
            raise ValueError("bad_words must contain at least one non-empty word")
        self.words = words
        self.prompt_length = prompt_length
        self.token_bytes = list(token_bytes)
        self.tail_bytes = 4 * max(len(w) for w in words) + 8
        vocab = _vocab_texts(tuple(self.token_bytes))
        texts, sorted_texts, order_t = vocab.texts, vocab.sorted_texts, vocab.order
        self.static = torch.tensor([any(w in t for w in words) for t in texts])
        self.splits: list[tuple[str, torch.Tensor]] = []
        for word in words:
            for k in range(1, len(word)):
                rest = word[k:]
                lo = bisect.bisect_left(sorted_texts, rest)
                hi = bisect.bisect_left(sorted_texts, rest + "\U0010ffff")
                if hi > lo:
                    self.splits.append((word[:k], order_t[lo:hi]))
        self.continuation_ids = vocab.continuation_ids

    def row_state(self, continuation: Sequence[int]) -> tuple[str, bytes]:
        """Folded text tail and pending bytes of a continuation's ids."""
        chunks: list[bytes] = []
        size = 0
        for token in reversed(continuation):
            piece = self.token_bytes[token]
            chunks.append(piece)
            size += len(piece)
            if size >= self.tail_bytes:
                break
        text, pending = _decode_partial(b"".join(reversed(chunks)))
        return normalize_text(text), pending

    def banned_tokens(self, continuation: Sequence[int]) -> list[int]:
        """Ids (beyond the static mask) that would complete a banned word."""
        tail, pending = self.row_state(continuation)
        banned: list[int] = []
        if pending:
            start = len(tail)
            for token in self.continuation_ids:
                text, _ = _decode_partial(self.token_bytes[token], pending)
                joined = tail + normalize_text(text)
                for word in self.words:
                    if joined.find(word, max(0, start - len(word) + 1)) != -1:
                        banned.append(token)
                        break
            return banned
        if tail:
            for prefix, ids in self.splits:
                if tail.endswith(prefix):
                    banned.extend(ids.tolist())
        return banned

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        mask = self.static.to(scores.device).expand_as(scores).clone()
        for row, ids in enumerate(input_ids[:, self.prompt_length :].tolist()):
            banned = self.banned_tokens(ids)
            if banned:
                mask[row, banned] = True
        return scores.masked_fill(mask, NEG_INF)


# ------------------------------------------------------------- valid UTF-8

# Lead byte -> (continuation bytes that follow, allowed range of the first one).
# The ranges rule out overlong forms, surrogates and code points past U+10FFFF,
# as a strict UTF-8 decoder does.
_UTF8_LEADS: dict[int, tuple[int, int, int]] = {
    **{b: (1, 0x80, 0xBF) for b in range(0xC2, 0xE0)},
    0xE0: (2, 0xA0, 0xBF),
    **{b: (2, 0x80, 0xBF) for b in (*range(0xE1, 0xED), 0xEE, 0xEF)},
    0xED: (2, 0x80, 0x9F),
    0xF0: (3, 0x90, 0xBF),
    **{b: (3, 0x80, 0xBF) for b in range(0xF1, 0xF4)},
    0xF4: (3, 0x80, 0x8F),
}


def _utf8_scan(data: bytes) -> tuple[bool, int]:
    """Whether ``data`` (starting on a character boundary) is valid UTF-8 up to
    a possibly unfinished last character, and how many bytes that one lacks."""
    i = 0
    while i < len(data):
        byte = data[i]
        if byte < 0x80:
            i += 1
            continue
        if byte not in _UTF8_LEADS:
            return False, 0
        count, lo, hi = _UTF8_LEADS[byte]
        for j in range(1, count + 1):
            if i + j == len(data):
                return True, count - j + 1
            if not lo <= data[i + j] <= hi:
                return False, 0
            lo, hi = 0x80, 0xBF
        i += count + 1
    return True, 0


class Utf8TokenTables:
    """Per-token facts the valid-UTF-8 processor needs, computed once per vocabulary.

    For each token: its byte length, its first byte (-1 if it has none), how
    many continuation bytes (0x80-0xBF) it starts with, whether the bytes after
    those are valid UTF-8 (an unfinished last character allowed), and how many
    bytes that unfinished character still lacks.
    """

    def __init__(self, token_bytes: Sequence[bytes]) -> None:
        lengths, firsts, leads, valid, needs = [], [], [], [], []
        for piece in token_bytes:
            lead = 0
            while lead < len(piece) and 0x80 <= piece[lead] <= 0xBF:
                lead += 1
            ok, need = _utf8_scan(piece[lead:])
            lengths.append(len(piece))
            firsts.append(piece[0] if piece else -1)
            leads.append(lead)
            valid.append(ok)
            needs.append(need)
        self.token_bytes = list(token_bytes)
        self.length = torch.tensor(lengths)
        self.first = torch.tensor(firsts)
        self.lead = torch.tensor(leads)
        self.starts_with_continuation = self.lead > 0
        self.tail_valid = torch.tensor(valid)
        self.tail_need = torch.tensor(needs)
        self._on: dict[torch.device, Utf8TokenTables] = {}

    def to(self, device: torch.device) -> Utf8TokenTables:
        if self.length.device == device:
            return self
        if device not in self._on:
            moved = object.__new__(Utf8TokenTables)
            moved.__dict__.update(
                {
                    k: v.to(device) if isinstance(v, torch.Tensor) else v
                    for k, v in self.__dict__.items()
                }
            )
            moved._on = {}
            self._on[device] = moved
        return self._on[device]


class ValidUtf8LogitsProcessor:
    """Mask every next token whose bytes would make the output invalid UTF-8.

    Byte-level BPE has tokens that are parts of a character; sampled freely
    they leave lone or mismatched bytes, which decode to U+FFFD. State of a
    row comes from its last few bytes (so beam reordering needs no
    bookkeeping). Mid-character (``n`` continuation bytes still owed), a
    token is allowed if it starts with exactly ``n`` fitting continuation
    bytes followed by valid text, or is ``< n`` continuation bytes only; eos
    is masked. Otherwise a token is allowed if it does not start with a
    continuation byte and its own bytes are valid; it may end mid-character.
    With ``max_new_tokens`` given, a token that would leave a character
    unfinished is masked when fewer steps remain than bytes are owed, so a
    sequence cut at the length limit is whole too.
    """

    def __init__(
        self,
        tables: Utf8TokenTables,
        prompt_length: int,
        eos_token_id: int | None = None,
        max_new_tokens: int | None = None,
    ) -> None:
        self.tables = tables
        self.prompt_length = prompt_length
        self.eos_token_id = eos_token_id
        self.max_new_tokens = max_new_tokens

    def pending(self, continuation: Sequence[int]) -> bytes:
        """The bytes of the unfinished last character of ``continuation``."""
        tail = b""
        for token in reversed(continuation):
            tail = self.tables.token_bytes[token] + tail
            if len(tail) >= 4:
                break
        for back in range(1, min(3, len(tail)) + 1):
            byte = tail[-back]
            if not 0x80 <= byte <= 0xBF:
                count = _UTF8_LEADS.get(byte, (0,))[0]
                return tail[-back:] if count >= back else b""
        return b""

    def allowed(self, pending: bytes, remaining: int) -> torch.Tensor:
        """Boolean mask of tokens allowed after ``pending`` with ``remaining``
        steps left after this one."""
        t = self.tables
        if not pending:
            return (
                (~t.starts_with_continuation)
                & t.tail_valid
                & (t.tail_need <= remaining)
            )
        count, lo, hi = _UTF8_LEADS[pending[0]]
        need = count - (len(pending) - 1)
        if len(pending) > 1:
            lo, hi = 0x80, 0xBF
        fits = (t.first >= lo) & (t.first <= hi)
        complete = (t.lead == need) & t.tail_valid & (t.tail_need <= remaining)
        partial = (
            (t.lead == t.length)
            & (t.length > 0)
            & (t.length < need)
            & (need - t.length <= remaining)
        )
        return fits & (complete | partial)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        self.tables = self.tables.to(scores.device)
        generated = input_ids.shape[1] - self.prompt_length
        remaining = (
            self.max_new_tokens - generated - 1
            if self.max_new_tokens is not None
            else len(self.tables.token_bytes)
        )
        rows = []
        for ids in input_ids[:, self.prompt_length :].tolist():
            pending = self.pending(ids)
            allowed = self.allowed(pending, remaining)
            if pending and self.eos_token_id is not None:
                allowed = allowed.clone()
                allowed[self.eos_token_id] = False
            rows.append(allowed)
        allowed = torch.stack(rows)[:, : scores.shape[-1]]
        return scores.masked_fill(~allowed, NEG_INF)


# ----------------------------------------------------------------- search


class StepModel(Protocol):
    """What the search loops need from a model.

    ``prefill(prompt)`` takes (1, n) ids and returns the next-token logits
    (1, vocab); ``select(index)`` keeps/reorders/repeats batch rows of the
    cached state; ``step(tokens)`` takes (batch, 1) ids and returns (batch,
    vocab) logits.
    """

    def prefill(self, prompt: torch.Tensor) -> torch.Tensor: ...

    def select(self, index: torch.Tensor) -> None: ...

    def step(self, tokens: torch.Tensor) -> torch.Tensor: ...


@dataclass
class GeneratedSequence:
    """One returned sequence: new tokens (no eos), their model log-probs."""

    tokens: list[int]
    logprobs: list[float]
    score: float
    finished: bool
    index: int = 0

    @property
    def mean_logprob(self) -> float:
        return sum(self.logprobs) / len(self.logprobs) if self.logprobs else 0.0


@dataclass
class DecodeSetup:
    """Processors and warpers built from GenerationParams."""

    processors: list[LogitsProcessor] = field(default_factory=list)
    warpers: list[LogitsProcessor] = field(default_factory=list)


def build_processors(
    params: GenerationParams,
    prompt_length: int,
    eos_token_id: int | None,
    token_bytes: Sequence[bytes] | None = None,
    suppress_tokens: Sequence[int] = (),
    bad_words: Sequence[str] | None = None,
    utf8_tables: Utf8TokenTables | None = None,
) -> DecodeSetup:
    """The HF processor list for ``params`` (same order as transformers).

    ``bad_words`` overrides ``params.bad_words`` (the API adds derived,
    placeholder-spelled words to the person's list). ``utf8_tables`` turns on
    :class:`ValidUtf8LogitsProcessor`.
    """
    setup = DecodeSetup()
    bad_words = params.bad_words if bad_words is None else list(bad_words)
    if params.repetition_penalty != 1.0:
        setup.processors.append(
            RepetitionPenaltyLogitsProcessor(params.repetition_penalty)
        )
    if params.no_repeat_ngram_size > 0:
        setup.processors.append(
            NoRepeatNGramLogitsProcessor(params.no_repeat_ngram_size)
        )
    if bad_words:
        if token_bytes is None:
            raise ValueError("bad_words need the tokenizer's token bytes")
        setup.processors.append(
            BadWordsLogitsProcessor(bad_words, token_bytes, prompt_length)
        )
    if utf8_tables is not None:
        setup.processors.append(
            ValidUtf8LogitsProcessor(
                utf8_tables, prompt_length, eos_token_id, params.max_new_tokens
            )
        )
    if params.min_new_tokens > 0 and eos_token_id is not None:
        setup.processors.append(
            MinNewTokensLengthLogitsProcessor(
                prompt_length, params.min_new_tokens, eos_token_id
            )
        )
    if suppress_tokens:
        setup.processors.append(SuppressTokensLogitsProcessor(suppress_tokens))
    if params.do_sample:
        keep = 2 if params.num_beams > 1 else 1
        if params.temperature != 1.0:
            setup.warpers.append(TemperatureLogitsWarper(params.temperature))
        if params.top_k > 0:
            setup.warpers.append(
                TopKLogitsWarper(params.top_k, min_tokens_to_keep=keep)
            )
        if params.top_p < 1.0:
            setup.warpers.append(
                TopPLogitsWarper(params.top_p, min_tokens_to_keep=keep)
            )
    return setup


def _apply(chain: Sequence[LogitsProcessor], ids: torch.Tensor, scores: torch.Tensor):
    for processor in chain:
        scores = processor(ids, scores)
    return scores


def _rescue_dead_rows(scores: torch.Tensor, eos_token_id: int | None) -> torch.Tensor:
    """A row with every token masked ends instead of sampling NaN."""
    dead = torch.isneginf(scores).all(dim=-1)
    if dead.any():
        if eos_token_id is None:
            raise RuntimeError("every next token is banned and there is no eos")
        scores = scores.clone()
        scores[dead, eos_token_id] = 0.0
    return scores


def generate_tokens(
    model: StepModel,
    prompt_ids: Sequence[int],
    params: GenerationParams,
    eos_token_id: int | None,
    pad_token_id: int = 0,
    token_bytes: Sequence[bytes] | None = None,
    suppress_tokens: Sequence[int] = (),
    device: torch.device | str = "cpu",
    bad_words: Sequence[str] | None = None,
    utf8_tables: Utf8TokenTables | None = None,
) -> list[GeneratedSequence]:
    """Run sampling, greedy or beam search; ``params.seed`` must be set."""
    if params.seed is None:
        raise ValueError("params.seed must be set; call params.resolved() first")
    if not prompt_ids:
        raise ValueError("prompt_ids must not be empty")
    prompt = torch.tensor([list(prompt_ids)], dtype=torch.long, device=device)
    setup = build_processors(
        params,
        prompt.shape[1],
        eos_token_id,
        token_bytes,
        suppress_tokens,
        bad_words,
        utf8_tables,
    )
    generator = torch.Generator(device=prompt.device)
    generator.manual_seed(params.seed)
    if params.num_beams > 1:
        return _beam_search(model, prompt, params, setup, eos_token_id, generator)
    return _sample(model, prompt, params, setup, eos_token_id, pad_token_id, generator)


def _sample(model, prompt, params, setup, eos_token_id, pad_token_id, generator):
    batch = params.num_return_sequences
    prompt_length = prompt.shape[1]
    logits = model.prefill(prompt)
    rows = torch.zeros(batch, dtype=torch.long, device=prompt.device)
    model.select(rows)
    logits = logits.expand(batch, -1)
    input_ids = prompt.expand(batch, -1)
    done = torch.zeros(batch, dtype=torch.bool, device=prompt.device)
    logprobs = []
    for step in range(params.max_new_tokens):
        model_logprobs = F.log_softmax(logits.float(), dim=-1)
        scores = _apply(setup.processors, input_ids, logits.float())
        if params.do_sample:
            scores = _apply(setup.warpers, input_ids, scores)
            scores = _rescue_dead_rows(scores, eos_token_id)
            probs = scores.softmax(dim=-1)
            next_tokens = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        else:
            scores = _rescue_dead_rows(scores, eos_token_id)
            next_tokens = scores.argmax(dim=-1)
        next_tokens = torch.where(
            done, torch.full_like(next_tokens, pad_token_id), next_tokens
        )
        logprobs.append(model_logprobs.gather(1, next_tokens[:, None]).squeeze(1))
        input_ids = torch.cat([input_ids, next_tokens[:, None]], dim=1)
        if eos_token_id is not None:
            done = done | (next_tokens == eos_token_id)
        if bool(done.all()) or step == params.max_new_tokens - 1:
            break
        logits = model.step(next_tokens[:, None])
    generated = input_ids[:, prompt_length:].tolist()
    token_logprobs = torch.stack(logprobs, dim=1).tolist()
    results = []
    for index, (tokens, lps) in enumerate(zip(generated, token_logprobs, strict=True)):
        finished = eos_token_id is not None and eos_token_id in tokens
        length = tokens.index(eos_token_id) if finished else len(tokens)
        kept = lps[:length]
        results.append(
            GeneratedSequence(
                tokens=tokens[:length],
                logprobs=kept,
                score=sum(kept),
                finished=finished,
                index=index,
            )
        )
    return results


class BeamHypotheses:
    """Finished hypotheses of one prompt, as transformers' BeamHypotheses."""

    def __init__(
        self,
        num_beams: int,
        length_penalty: float,
        early_stopping: bool | str,
        max_length: int,
    ) -> None:
        self.num_beams = num_beams
        self.length_penalty = length_penalty
        self.early_stopping = early_stopping
        self.max_length = max_length
        self.beams: list[tuple[float, list[int], list[float], bool]] = []
        self.worst_score = 1e9

    def __len__(self) -> int:
        return len(self.beams)

    def add(
        self,
        tokens: list[int],
        logprobs: list[float],
        sum_logprobs: float,
        generated_len: int,
        finished: bool,
    ) -> None:
        score = sum_logprobs / (generated_len**self.length_penalty)
        if len(self) < self.num_beams or score > self.worst_score:
            self.beams.append((score, tokens, logprobs, finished))
            if len(self) > self.num_beams:
                ranked = sorted((s, i) for i, (s, *_rest) in enumerate(self.beams))
                del self.beams[ranked[0][1]]
                self.worst_score = ranked[1][0]
            else:
                self.worst_score = min(score, self.worst_score)

    def is_done(self, best_sum_logprobs: float, cur_len: int, prompt_len: int) -> bool:
        if len(self) < self.num_beams:
            return False
        if self.early_stopping is True:
            return True
        if self.early_stopping is False or self.length_penalty <= 0:
            length = cur_len - prompt_len
        else:  # "never": the best score reachable within max_length
            length = self.max_length - prompt_len
        highest = best_sum_logprobs / length**self.length_penalty
        return self.worst_score >= highest


def _beam_search(model, prompt, params, setup, eos_token_id, generator):
    num_beams = params.num_beams
    prompt_length = prompt.shape[1]
    device = prompt.device
    logits = model.prefill(prompt)
    model.select(torch.zeros(num_beams, dtype=torch.long, device=device))
    logits = logits.expand(num_beams, -1)
    vocab = logits.shape[-1]
    input_ids = prompt.expand(num_beams, -1)
    beam_scores = torch.zeros(num_beams, device=device)
    beam_scores[1:] = -1e9  # all beams start identical: expand only the first
    token_logprobs = torch.zeros(num_beams, 0, device=device)
    hyps = BeamHypotheses(
        num_beams,
        params.length_penalty,
        params.early_stopping,
        prompt_length + params.max_new_tokens,
    )
    done = False
    for step in range(params.max_new_tokens):
        model_logprobs = F.log_softmax(logits.float(), dim=-1)
        scores = _apply(setup.processors, input_ids, model_logprobs)
        scores = scores + beam_scores[:, None]
        n_candidates = 2 * num_beams
        if params.do_sample:
            scores = _apply(setup.warpers, input_ids, scores)
            probs = scores.reshape(-1).softmax(dim=-1)
            available = int((probs > 0).sum())
            picked = torch.multinomial(
                probs, min(n_candidates, available), generator=generator
            )
            top_scores = scores.reshape(-1)[picked]
            top_scores, order = torch.sort(top_scores, descending=True)
            top_index = picked[order]
        else:
            top_scores, top_index = torch.topk(scores.reshape(-1), n_candidates)
        beam_of = (top_index // vocab).tolist()
        token_of = (top_index % vocab).tolist()
        top_list = top_scores.tolist()
        cur_len = input_ids.shape[1] + 1
        chosen: list[tuple[float, int, int]] = []
        for rank, (score, beam, token) in enumerate(
            zip(top_list, beam_of, token_of, strict=True)
        ):
            if eos_token_id is not None and token == eos_token_id:
                if rank >= num_beams:
                    continue
                hyps.add(
                    input_ids[beam, prompt_length:].tolist(),
                    token_logprobs[beam].tolist(),
                    score,
                    cur_len - prompt_length,
                    True,
                )
            else:
                chosen.append((score, beam, token))
            if len(chosen) == num_beams:
                break
        while len(chosen) < num_beams:  # too few live candidates: pad with the worst
            chosen.append((NEG_INF, chosen[-1][1] if chosen else 0, token_of[0]))
        done = hyps.is_done(max(top_list), cur_len, prompt_length)
        beams = torch.tensor([b for _, b, _ in chosen], device=device)
        tokens = torch.tensor([t for _, _, t in chosen], device=device)
        beam_scores = torch.tensor([s for s, _, _ in chosen], device=device)
        chosen_lp = model_logprobs[beams, tokens]
        input_ids = torch.cat([input_ids[beams], tokens[:, None]], dim=1)
        token_logprobs = torch.cat([token_logprobs[beams], chosen_lp[:, None]], dim=1)
        if done or step == params.max_new_tokens - 1:
            break
        model.select(beams)
        logits = model.step(tokens[:, None])
    if not done:
        for beam in range(num_beams):
            hyps.add(
                input_ids[beam, prompt_length:].tolist(),
                token_logprobs[beam].tolist(),
                float(beam_scores[beam]),
                input_ids.shape[1] - prompt_length,
                False,
            )
    ranked = sorted(hyps.beams, key=lambda item: item[0], reverse=True)
    results = []
    for index, (score, tokens, logprobs, finished) in enumerate(
        ranked[: params.num_return_sequences]
    ):
        results.append(
            GeneratedSequence(
                tokens=list(tokens),
                logprobs=list(logprobs),
                score=score,
                finished=finished,
                index=index,
            )
        )
    return results


class CachedLM:
    """A :class:`StepModel` over :class:`generator.incremental.IncrementalDecoder`."""

    def __init__(self, decoder) -> None:
        self.decoder = decoder
        self.cache = decoder.new_cache()

    def prefill(self, prompt: torch.Tensor) -> torch.Tensor:
        self.cache = self.decoder.new_cache()
        return self.decoder(prompt, self.cache)

    def select(self, index: torch.Tensor) -> None:
        self.cache.select(index, self.decoder.heads)

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.decoder(tokens, self.cache)
