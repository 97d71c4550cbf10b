"""Logits processors, parameter validation, beam search and banned words.

The models here are tables (logits fixed per previous token, or constant), so
expected results can be worked out by hand or by brute force.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

import generator
from generator.decoding import (
    BadWordsLogitsProcessor,
    MinNewTokensLengthLogitsProcessor,
    NoRepeatNGramLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
    Utf8TokenTables,
    ValidUtf8LogitsProcessor,
    find_bad_word,
    generate_tokens,
    token_bytes_table,
)
from generator.params import GenerationParams

NEG = float("-inf")


# ------------------------------------------------------------ processors


def test_temperature_divides_scores():
    out = TemperatureLogitsWarper(2.0)(None, torch.tensor([[1.0, 2.0, 3.0]]))
    assert out.tolist() == [[0.5, 1.0, 1.5]]


def test_top_k_keeps_an_absolute_count_with_ties():
    scores = torch.tensor([[1.0, 3.0, 2.0, 3.0]])
    assert TopKLogitsWarper(2)(None, scores).tolist() == [[NEG, 3.0, NEG, 3.0]]
    assert TopKLogitsWarper(3)(None, scores).tolist() == [[NEG, 3.0, 2.0, 3.0]]
    kept = TopKLogitsWarper(1, min_tokens_to_keep=3)(None, scores)
    assert kept.tolist() == [[NEG, 3.0, 2.0, 3.0]]


@pytest.mark.parametrize(
    ("top_p", "kept"),
    [(0.4, {0}), (0.75, {0, 1}), (0.85, {0, 1, 2}), (1.0, {0, 1, 2, 3})],
)
def test_top_p_keeps_the_smallest_set_reaching_top_p(top_p, kept):
    scores = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()
    out = TopPLogitsWarper(top_p)(None, scores)
    assert {i for i in range(4) if out[0, i] > NEG} == kept


def test_top_p_keeps_min_tokens():
    scores = torch.tensor([[0.9, 0.05, 0.05]]).log()
    out = TopPLogitsWarper(0.5, min_tokens_to_keep=2)(None, scores)
    assert int((out[0] > NEG).sum()) == 2 and out[0, 0] > NEG


def test_repetition_penalty_divides_positive_and_multiplies_negative():
    scores = torch.tensor([[2.0, 1.0, -1.0, 0.5]])
    out = RepetitionPenaltyLogitsProcessor(2.0)(torch.tensor([[0, 2]]), scores)
    assert out.tolist() == [[1.0, 1.0, -2.0, 0.5]]


def test_no_repeat_ngram_bans_completing_a_seen_ngram():
    scores = torch.zeros(1, 5)
    out = NoRepeatNGramLogitsProcessor(2)(torch.tensor([[1, 2, 3, 1]]), scores)
    assert out.tolist() == [[0, 0, NEG, 0, 0]]
    out = NoRepeatNGramLogitsProcessor(3)(torch.tensor([[1, 2, 1, 2]]), scores)
    assert out.tolist() == [[0, NEG, 0, 0, 0]]
    out = NoRepeatNGramLogitsProcessor(3)(torch.tensor([[1]]), scores)
    assert out.tolist() == [[0] * 5]


def test_min_new_tokens_masks_eos_until_enough_new_tokens():
    processor = MinNewTokensLengthLogitsProcessor(2, 3, eos_token_id=0)
    scores = torch.zeros(1, 3)
    assert processor(torch.zeros(1, 4, dtype=torch.long), scores)[0, 0] == NEG
    assert processor(torch.zeros(1, 5, dtype=torch.long), scores)[0, 0] == 0


# ------------------------------------------------------------ parameters


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"top_p": 1.5}, "top_p must be in (0, 1], got 1.5"),
        ({"top_p": 0}, "top_p must be in (0, 1], got 0"),
        ({"temperature": 0}, "temperature must be > 0, got 0"),
        ({"num_beams": 2, "num_return_sequences": 3}, "must be <= num_beams"),
        ({"max_new_tokens": 513}, "max_new_tokens must be in [1, 512], got 513"),
        ({"num_return_sequences": 51}, "num_return_sequences must be in [1, 50]"),
        ({"min_new_tokens": 10, "max_new_tokens": 5}, "min_new_tokens must be in"),
        ({"top_k": -1}, "top_k must be in >= 0, got -1"),
        ({"num_beams": 17}, "num_beams must be in [1, 16], got 17"),
        ({"repetition_penalty": 0}, "repetition_penalty must be > 0"),
        ({"early_stopping": "sometimes"}, "early_stopping must be true, false"),
        ({"bad_words": "free"}, "bad_words must be a list of strings"),
        ({"bad_words": [""]}, "bad_words[0] must not be empty"),
        ({"do_sample": False, "num_return_sequences": 2}, "needs do_sample=true"),
        ({"seed": -1}, "seed must be an integer"),
    ],
)
def test_invalid_parameters_raise_a_clear_value_error(kwargs, message):
    with pytest.raises(ValueError) as error:
        GenerationParams.from_kwargs(**kwargs)
    assert message in str(error.value)


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match="unknown generation parameters: topp"):
        GenerationParams.from_kwargs(topp=0.9)


def test_resolved_params_draw_and_keep_a_seed():
    params = GenerationParams(seed=None).resolved()
    assert isinstance(params.seed, int)
    assert params.to_dict()["seed"] == params.seed
    assert GenerationParams(seed=7).resolved().seed == 7


# --------------------------------------------------- a table as the model


class TableModel:
    """Next-token logits depend only on the previous token: ``table[prev]``."""

    def __init__(self, table: torch.Tensor) -> None:
        self.table = table
        self.prev: torch.Tensor | None = None
        self.calls = 0

    def prefill(self, prompt):
        self.prev = prompt[:, -1]
        return self.table[self.prev]

    def select(self, index):
        self.prev = self.prev[index]

    def step(self, tokens):
        self.calls += 1
        self.prev = tokens[:, -1]
        return self.table[self.prev]


def brute_force_ranking(table, start, max_new, eos, length_penalty):
    logp = torch.log_softmax(table, dim=-1)
    vocab = table.shape[0]
    results = []
    for length in range(1, max_new + 1):
        for seq in itertools.product(range(vocab), repeat=length):
            if eos in seq[:-1]:
                continue
            prev, total = start, 0.0
            for token in seq:
                total += float(logp[prev, token])
                prev = token
            finished = seq[-1] == eos
            if not finished and length < max_new:
                continue
            tokens = list(seq[:-1]) if finished else list(seq)
            results.append((total / length**length_penalty, tokens))
    return sorted(results, reverse=True)


@pytest.mark.parametrize("length_penalty", [0.5, 1.0, 2.0])
def test_beam_search_finds_the_highest_scoring_sequences(length_penalty):
    torch.manual_seed(3)
    table = torch.randn(4, 4) * 2
    params = GenerationParams(
        do_sample=False,
        num_beams=16,
        num_return_sequences=3,
        max_new_tokens=3,
        length_penalty=length_penalty,
        early_stopping="never",
        seed=0,
    )
    out = generate_tokens(TableModel(table), [1], params, eos_token_id=0)
    expected = brute_force_ranking(table, 1, 3, 0, length_penalty)[:3]
    assert [seq.tokens for seq in out] == [tokens for _, tokens in expected]
    for seq, (score, _) in zip(out, expected, strict=True):
        assert seq.score == pytest.approx(score, abs=1e-5)


def test_beam_search_beats_greedy_when_the_best_path_starts_unlikely():
    # From token 1: token 2 (p=.6) then a flat distribution, or token 3
    # (p=.4) then eos with p~1. Greedy takes 2; two beams find 3, eos.
    p = torch.full((4, 4), 1e-6)
    p[1] = torch.tensor([1e-6, 1e-6, 0.6, 0.4])
    p[2] = torch.tensor([0.25, 0.25, 0.25, 0.25])
    p[3] = torch.tensor([1.0, 1e-6, 1e-6, 1e-6])
    table = p.log()
    greedy = GenerationParams(do_sample=False, max_new_tokens=2, seed=0)
    beams = GenerationParams(
        do_sample=False, num_beams=2, max_new_tokens=2, early_stopping=True, seed=0
    )
    assert generate_tokens(TableModel(table), [1], greedy, 0)[0].tokens[0] == 2
    assert generate_tokens(TableModel(table), [1], beams, 0)[0].tokens == [3]


def test_sampling_runs_all_return_sequences_as_one_batch():
    model = TableModel(torch.zeros(5, 5))
    params = GenerationParams(num_return_sequences=6, max_new_tokens=4, seed=1)
    out = generate_tokens(model, [1], params, eos_token_id=None)
    assert len(out) == 6 and all(len(seq.tokens) == 4 for seq in out)
    assert model.calls == 3  # one batched step per token after the first
    assert [seq.index for seq in out] == list(range(6))


def test_same_seed_same_samples_and_another_seed_differs():
    torch.manual_seed(0)
    table = torch.randn(50, 50)

    def run(seed):
        params = GenerationParams(num_return_sequences=4, max_new_tokens=10, seed=seed)
        return [s.tokens for s in generate_tokens(TableModel(table), [1], params, 0)]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_greedy_stops_at_eos_and_reports_model_logprobs():
    table = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 5.0], [5.0, 0.0, 0.0]])
    params = GenerationParams(do_sample=False, max_new_tokens=5, seed=0)
    (seq,) = generate_tokens(TableModel(table), [1], params, eos_token_id=0)
    assert seq.tokens == [2] and seq.finished
    assert seq.logprobs == [pytest.approx(float(torch.log_softmax(table[1], 0)[2]))]


def test_min_new_tokens_delays_eos_in_generation():
    table = torch.tensor([[5.0, 0.0], [5.0, 0.0]])  # eos (0) is always likeliest
    params = GenerationParams(
        do_sample=False, max_new_tokens=6, min_new_tokens=4, seed=0
    )
    (seq,) = generate_tokens(TableModel(table), [1], params, eos_token_id=0)
    assert seq.tokens == [1, 1, 1, 1] and seq.finished


# ------------------------------------------------------------- bad words


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


class ByteTokenizer:
    """Stand-in byte-level tokenizer: id 0 = eos, 1..256 = bytes, then merges.

    Merges include pieces that split a Chinese character between tokens, as a
    byte-level BPE does.
    """

    MERGES = [
        b"fr", b"ee", b"Fre", b"FREE", b"e f", b"RE", b"fReE",
        utf8("免"), utf8("费"), utf8("免费"), utf8("费")[:2], utf8("费")[2:],
        utf8("免")[:1], utf8("免")[1:], b"e" + utf8("免"),
    ]  # fmt: skip

    def __init__(self) -> None:
        self.table = [b""] + [bytes([b]) for b in range(256)] + self.MERGES
        self.vocab_size = len(self.table)
        self.eos_id = 0

    def token_bytes(self, token: int) -> bytes:
        return self.table[token]

    def decode(self, ids) -> str:
        return b"".join(self.table[i] for i in ids).decode("utf-8", errors="replace")


class ConstantModel:
    """Equal logits over an alphabet of tokens, every step."""

    def __init__(self, vocab: int, alphabet: list[int]) -> None:
        self.logits = torch.full((1, vocab), -30.0)
        self.logits[0, alphabet] = 0.0
        self.batch = 1

    def prefill(self, prompt):
        return self.logits

    def select(self, index):
        self.batch = len(index)

    def step(self, tokens):
        return self.logits.expand(tokens.shape[0], -1)


def _alphabet(tokenizer: ByteTokenizer) -> list[int]:
    chars = set(b"frFRe E") | set(utf8("免费"))
    singles = [1 + b for b in sorted(chars)]
    return singles + list(range(257, tokenizer.vocab_size))


BANNED = ["free", "免费"]


def _samples(tokenizer, alphabet, bad_words, seeds, **kwargs):
    model = ConstantModel(tokenizer.vocab_size, alphabet)
    table = token_bytes_table(tokenizer)
    texts = []
    for seed in seeds:
        params = GenerationParams(
            max_new_tokens=40, seed=seed, bad_words=bad_words, **kwargs
        )
        for seq in generate_tokens(
            model, [1 + ord("x")], params, eos_token_id=None, token_bytes=table
        ):
            texts.append(tokenizer.decode(seq.tokens))
    return texts


def test_without_bad_words_the_biased_model_writes_them():
    tokenizer = ByteTokenizer()
    texts = _samples(
        tokenizer, _alphabet(tokenizer), [], range(10), num_return_sequences=8
    )
    folded = [t.casefold() for t in texts]
    assert any("free" in t for t in folded)
    assert any("免费" in t for t in folded)
    assert {"free", "FREE"} & {t[i : i + 4] for t in texts for i in range(len(t))}


def test_bad_words_never_appear_under_sampling_across_seeds():
    tokenizer = ByteTokenizer()
    texts = _samples(
        tokenizer, _alphabet(tokenizer), BANNED, range(30), num_return_sequences=8
    )
    assert len(texts) == 240
    for text in texts:
        assert find_bad_word(text, BANNED) is None, text
    # Enforcement must not ban everything: the allowed letters still appear.
    assert any("fre" in t.casefold() for t in texts)
    assert any("免" in t for t in texts)


def test_bad_words_never_appear_in_beam_search():
    tokenizer = ByteTokenizer()
    texts = _samples(
        tokenizer,
        _alphabet(tokenizer),
        BANNED,
        range(5),
        num_beams=4,
        num_return_sequences=4,
    )
    for text in texts:
        assert find_bad_word(text, BANNED) is None, text


def test_bad_word_phrase_with_space_and_mixed_case_is_banned():
    tokenizer = ByteTokenizer()
    texts = _samples(
        tokenizer,
        _alphabet(tokenizer),
        ["e F", "ReE"],
        range(10),
        num_return_sequences=8,
    )
    for text in texts:
        assert "e f" not in text.casefold() and "ree" not in text.casefold(), text


def test_bad_words_processor_bans_completion_across_a_split_character():
    tokenizer = ByteTokenizer()
    table = token_bytes_table(tokenizer)
    processor = BadWordsLogitsProcessor(["免费"], table, prompt_length=0)
    fei = utf8("费")
    # Continuation so far: 免 then the first two bytes of 费.
    ids = [table.index(utf8("免")), table.index(fei[:2])]
    banned = set(processor.banned_tokens(ids))
    assert table.index(fei[2:]) in banned
    assert 1 + ord("a") not in banned
    assert processor.static[table.index(utf8("免费"))]


def test_find_bad_word_is_case_insensitive():
    assert find_bad_word("Totally FREE!", ["free"]) == "free"
    assert find_bad_word("立即免费领取", ["免费"]) == "免费"
    assert find_bad_word("Great value", ["free"]) is None


def test_bad_words_with_the_real_byte_level_tokenizer():
    from generator.tokenizer import CopyTokenizer

    corpus = [
        "Free shipping for free today",
        "免费送货，免费退货",
        "freedom fries",
    ] * 30
    tokenizer = CopyTokenizer.train(corpus, vocab_size=400)
    table = token_bytes_table(tokenizer)
    wanted = set(b"freFRE ") | set(utf8("免费送"))
    alphabet = [i for i, b in enumerate(table) if b and set(b) <= wanted]
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):  # the byte table reproduces decode()
        ids = torch.randint(0, len(table), (12,), generator=generator).tolist()
        raw = b"".join(table[i] for i in ids).decode("utf-8", errors="replace")
        assert tokenizer.decode(ids) == raw
    model = ConstantModel(tokenizer.vocab_size, alphabet)
    for seed in range(10):
        params = GenerationParams(
            max_new_tokens=40, seed=seed, num_return_sequences=8, bad_words=BANNED
        )
        for seq in generate_tokens(
            model, [tokenizer.bos_id], params, eos_token_id=None, token_bytes=table
        ):
            assert find_bad_word(tokenizer.decode(seq.tokens), BANNED) is None


# ------------------------------------------------------------ valid UTF-8


def _utf8_allowed(tokenizer, ids, max_new_tokens=None):
    """Token ids the processor allows after the continuation ``ids``."""
    tables = Utf8TokenTables(token_bytes_table(tokenizer))
    processor = ValidUtf8LogitsProcessor(
        tables, prompt_length=1, eos_token_id=0, max_new_tokens=max_new_tokens
    )
    scores = processor(
        torch.tensor([[1 + ord("x"), *ids]]), torch.zeros(1, tokenizer.vocab_size)
    )
    return {i for i in range(tokenizer.vocab_size) if scores[0, i] == 0}


def test_valid_utf8_masks_continuation_starts_and_invalid_tokens_on_a_boundary():
    tokenizer = ByteTokenizer()
    table = tokenizer.table
    allowed = _utf8_allowed(tokenizer, [1 + ord("a")])
    assert {0, 1 + ord("a"), table.index(utf8("免费"))} <= allowed
    # Tokens ending inside a character are fine: the next step completes them.
    assert table.index(utf8("费")[:2]) in allowed
    assert table.index(utf8("免")[:1]) in allowed
    # Lone continuation bytes, and bytes that never occur in UTF-8.
    assert 1 + 0x80 not in allowed and 1 + 0xBF not in allowed
    assert table.index(utf8("费")[2:]) not in allowed
    assert table.index(utf8("免")[1:]) not in allowed
    assert 1 + 0xC0 not in allowed and 1 + 0xFF not in allowed
    tables = Utf8TokenTables([b"a", b"\x80", b"\xe5\x85", b"\xc3\x28", b""])
    assert tables.starts_with_continuation.tolist() == [
        False,
        True,
        False,
        False,
        False,
    ]
    assert tables.tail_valid.tolist() == [True, True, True, False, True]
    assert tables.tail_need.tolist() == [0, 0, 1, 0, 0]


def test_valid_utf8_mid_character_allows_only_fitting_continuations():
    tokenizer = ByteTokenizer()
    table = tokenizer.table
    mian = utf8("免")  # e5 85 8d: two continuation bytes owed after e5
    allowed = _utf8_allowed(tokenizer, [table.index(mian[:1])])
    assert table.index(mian[1:]) in allowed  # completes it
    assert 1 + 0x85 in allowed  # one of the two, the other comes next
    assert table.index(utf8("费")[2:]) in allowed  # one continuation byte
    assert 0 not in allowed  # no eos mid-character
    assert 1 + ord("a") not in allowed and table.index(mian) not in allowed
    assert 1 + 0xC0 not in allowed
    # One byte owed: a two-byte continuation token would leave a stray byte.
    allowed = _utf8_allowed(tokenizer, [table.index(utf8("费")[:2])])
    assert table.index(utf8("费")[2:]) in allowed and 1 + 0x80 in allowed
    assert table.index(mian[1:]) not in allowed and 0 not in allowed
    # After e0 the next byte must be a0-bf (no overlong forms).
    allowed = _utf8_allowed(tokenizer, [1 + 0xE0])
    assert 1 + 0xA0 in allowed and 1 + 0x80 not in allowed


def test_valid_utf8_leaves_no_character_unfinished_at_the_length_limit():
    tokenizer = ByteTokenizer()
    lead = tokenizer.table.index(utf8("免")[:1])
    # Continuation [x] plus this token is the last of max_new_tokens=2.
    assert lead not in _utf8_allowed(tokenizer, [1 + ord("a")], max_new_tokens=2)
    assert lead in _utf8_allowed(tokenizer, [1 + ord("a")], max_new_tokens=4)
    # e5 85 with one step left must take the last byte, not one more partial.
    allowed = _utf8_allowed(tokenizer, [lead, 1 + 0x85], max_new_tokens=3)
    assert 1 + 0x8D in allowed


def _partial_character_samples(utf8_tables, seeds, **kwargs):
    """Samples from the demo tokenizer biased toward bits of characters."""
    from generator.checkpoint import TOKENIZER
    from generator.tokenizer import CopyTokenizer

    tokenizer = CopyTokenizer.load(
        Path(generator.__file__).parent / "demo_model" / TOKENIZER
    )
    table = token_bytes_table(tokenizer)
    # Every token that is not whole characters, plus a little plain text.
    alphabet = [
        i
        for i, b in enumerate(table)
        if b and b.decode("utf-8", errors="replace") != b.decode("utf-8", "ignore")
    ]
    alphabet += tokenizer.encode(" ok") + [tokenizer.eos_id]
    model = ConstantModel(tokenizer.vocab_size, alphabet)
    tables = Utf8TokenTables(table) if utf8_tables else None
    texts = []
    for seed in seeds:
        params = GenerationParams(
            max_new_tokens=24, seed=seed, **{"num_return_sequences": 8, **kwargs}
        )
        for seq in generate_tokens(
            model,
            [tokenizer.bos_id],
            params,
            eos_token_id=tokenizer.eos_id,
            utf8_tables=tables,
        ):
            texts.append(tokenizer.decode(seq.tokens))
    return texts


def test_without_the_utf8_processor_partial_characters_decode_to_fffd():
    texts = _partial_character_samples(False, range(3))
    assert sum("\ufffd" in t for t in texts) > len(texts) // 2


@pytest.mark.parametrize("kwargs", [{}, {"num_beams": 4, "num_return_sequences": 4}])
def test_valid_utf8_sampling_never_writes_fffd_with_the_demo_tokenizer(kwargs):
    texts = _partial_character_samples(True, range(20), **kwargs)
    assert len(texts) >= 80
    for text in texts:
        assert "\ufffd" not in text, text
    assert sum(any(ord(c) > 0x7F for c in t) for t in texts) > len(texts) // 2
