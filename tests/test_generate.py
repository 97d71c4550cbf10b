"""Copywriter.generate and score through a real tokenizer and a tiny model.

The model is randomly initialised (its text is noise), which is enough to
check the API's contract: reproducibility, batching, beams, banned words,
prompt handling and errors. The end-to-end test through a saved checkpoint
saves with generator.checkpoint and reloads with load_model.
"""

from __future__ import annotations

import pytest
import torch

from generator.api import Candidate, Copywriter
from generator.config import ModelConfig
from generator.decoding import find_bad_word
from generator.model import build_model
from generator.prompt import GenerationSpec

CORPUS = [
    "Free shipping on {product} today. Fresh, bold and ready.",
    "Meet {product} by {brand}: {fact1} and more.",
    "免费送货，{product} 让生活更轻松。",
    "Save big on {product}. Limited offer, act now!",
] * 25


@pytest.fixture(scope="module")
def tokenizer():
    from generator.tokenizer import CopyTokenizer

    return CopyTokenizer.train(CORPUS, vocab_size=512)


@pytest.fixture(scope="module")
def writer(tokenizer):
    torch.manual_seed(0)
    config = ModelConfig(
        vocab_size=tokenizer.vocab_size, dim=32, depth=2, heads=2, dim_head=16,
        max_seq_len=128, bucket_size=16, n_hashes=2,
    )  # fmt: skip
    return Copywriter(build_model(config), tokenizer, config=config, device="cpu")


SPEC = GenerationSpec(
    content_type="ad_headline",
    product="Aurora X2",
    brand="Lumen",
    facts=["20h battery"],
    keywords=["headphones"],
)


def test_same_seed_gives_the_same_candidates(writer):
    first = writer.generate(SPEC, num_return_sequences=4, max_new_tokens=16, seed=11)
    again = writer.generate(SPEC, num_return_sequences=4, max_new_tokens=16, seed=11)
    other = writer.generate(SPEC, num_return_sequences=4, max_new_tokens=16, seed=12)
    assert [c.to_dict() for c in first] == [c.to_dict() for c in again]
    assert [c.text for c in first] != [c.text for c in other]


def test_candidates_report_count_logprob_params_seed_and_index(writer):
    out = writer.generate(
        SPEC.to_dict(), num_return_sequences=3, max_new_tokens=12, seed=3
    )
    assert len(out) == 3 and all(isinstance(c, Candidate) for c in out)
    assert [c.index for c in out] == [0, 1, 2]
    for c in out:
        assert 1 <= c.token_count <= 12
        assert c.mean_logprob < 0
        assert c.seed == 3 and c.params["seed"] == 3
        assert c.params["num_return_sequences"] == 3
        assert "{" not in c.text  # placeholders are filled or removed


def test_a_drawn_seed_is_reported_and_reproduces_the_call(writer):
    out = writer.generate("Free shipping", num_return_sequences=2, max_new_tokens=8)
    seed = out[0].seed
    again = writer.generate(
        "Free shipping", num_return_sequences=2, max_new_tokens=8, seed=seed
    )
    assert [c.text for c in out] == [c.text for c in again]


def test_beam_search_returns_ranked_distinct_beams(writer):
    out = writer.generate(
        SPEC,
        num_beams=4,
        num_return_sequences=3,
        do_sample=False,
        max_new_tokens=10,
        seed=0,
    )
    assert len(out) == 3
    greedy = writer.generate(SPEC, do_sample=False, max_new_tokens=10, seed=0)
    assert len(greedy) == 1


def test_bad_words_never_appear_in_generated_candidates(writer):
    banned = ["free", "save", "免费"]
    for seed in range(4):
        out = writer.generate(
            "Free shipping on", num_return_sequences=8, max_new_tokens=24,
            bad_words=banned, seed=seed, temperature=1.5, top_k=0,
        )  # fmt: skip
        for c in out:
            assert find_bad_word(c.text, banned) is None, c.text


def test_bad_word_inside_a_spec_value_is_rejected(writer):
    spec = GenerationSpec(content_type="slogan", product="FreeFlow")
    with pytest.raises(ValueError, match="'free' appears in the spec's product"):
        writer.generate(spec, bad_words=["free"], seed=1)


def test_unknown_parameter_and_bad_prompt_raise(writer):
    with pytest.raises(ValueError, match="unknown generation parameters: beams"):
        writer.generate(SPEC, beams=3)
    with pytest.raises(ValueError, match="prompt must be a string"):
        writer.generate(42)
    with pytest.raises(ValueError, match="prompt is"):
        writer.generate("word " * 200, max_new_tokens=64)


def test_long_spec_drops_fields_and_says_so(writer):
    spec = GenerationSpec(
        content_type="social_post",
        product="Aurora X2",
        persona={"interests": ["running " * 20]},
        keywords=["headphones " * 10],
    )
    out = writer.generate(spec, max_new_tokens=100, seed=1)
    assert out[0].prompt_dropped


def test_score_is_the_mean_logprob_of_the_text_under_exact_attention(writer, tokenizer):
    from generator.incremental import full_attention
    from generator.prompt import build_prompt, delexicalize

    text = "Meet Aurora X2 by Lumen: 20h battery."
    prompt = build_prompt(SPEC, tokenizer, 127).ids
    target = tokenizer.encode(delexicalize(text, SPEC))
    assert tokenizer.token_id("{product}") in target
    ids = torch.tensor([prompt + target])
    with torch.inference_mode(), full_attention(writer.model):
        logprobs = torch.log_softmax(writer.model(ids)[0], dim=-1)
    expected = logprobs[len(prompt) - 1 : -1].gather(1, ids[0, len(prompt) :, None])
    assert writer.score(SPEC, text) == pytest.approx(float(expected.mean()), abs=1e-4)
    with pytest.raises(ValueError, match="must not be empty"):
        writer.score(SPEC, "")


def test_end_to_end_through_a_saved_checkpoint(tmp_path, writer, tokenizer):
    from generator.api import load_model
    from generator.checkpoint import save_checkpoint

    directory = tmp_path / "ckpt"
    save_checkpoint(directory, writer.model, writer.config, tokenizer, {"steps": 0})
    loaded = load_model(directory, device="cpu")
    kwargs = dict(num_return_sequences=3, max_new_tokens=12, seed=5)
    assert [c.text for c in loaded.generate(SPEC, **kwargs)] == [
        c.text for c in writer.generate(SPEC, **kwargs)
    ]


class BiasedDecoder:
    """The writer's decoder with a fixed bias added to every step's logits."""

    def __init__(self, decoder, bias: torch.Tensor) -> None:
        self.decoder = decoder
        self.heads = decoder.heads
        self.bias = bias

    def new_cache(self):
        return self.decoder.new_cache()

    def __call__(self, ids, cache, all_logits=False):
        return self.decoder(ids, cache, all_logits) + self.bias


def biased_writer(writer, token_ids, amount=12.0):
    bias = torch.zeros(writer.model.token_emb.num_embeddings)
    bias[token_ids] = amount
    biased = Copywriter(writer.model, writer.tokenizer, device="cpu")
    biased.decoder = BiasedDecoder(writer.decoder, bias)
    return biased


def test_placeholders_without_a_spec_value_are_never_written(writer, monkeypatch):
    tok = writer.tokenizer
    missing = [tok.token_id(p) for p in ("{brand}", "{fact2}", "{fact3}", "{kw2}")]
    present = [tok.token_id(p) for p in ("{fact1}", "{kw1}")]
    biased = biased_writer(writer, missing + present)
    decoded: list[list[int]] = []
    real_decode = tok.decode

    def spy(ids, *args, **kwargs):
        decoded.append(list(ids))
        return real_decode(ids, *args, **kwargs)

    monkeypatch.setattr(tok, "decode", spy)
    spec = GenerationSpec(
        content_type="ad_headline",
        product="Aurora X2",
        facts=["20h battery"],
        keywords=["headphones"],
    )
    for seed in range(5):
        for c in biased.generate(
            spec, num_return_sequences=4, max_new_tokens=12, seed=seed
        ):
            assert "  " not in c.text and " ," not in c.text, c.text
    assert len(decoded) == 20
    written = [t for ids in decoded for t in ids]
    assert not set(missing) & set(written)
    assert set(present) <= set(written)  # filled placeholders are still written


def test_keyword_containing_a_bad_word_is_rejected(writer):
    spec = GenerationSpec(content_type="slogan", keywords=["fast", "free delivery"])
    with pytest.raises(ValueError, match="'free' appears in the spec's kw2"):
        writer.generate(spec, bad_words=["free"], seed=1)


def test_generated_text_is_valid_utf8_even_when_the_model_favours_byte_pieces(writer):
    table = writer.token_bytes
    pieces = [
        i
        for i, b in enumerate(table)
        if b and b.decode("utf-8", errors="replace") != b.decode("utf-8", "ignore")
    ]
    assert len(pieces) > 20
    biased = biased_writer(writer, pieces, amount=8.0)
    texts = []
    for seed in range(5):
        out = biased.generate(
            SPEC, num_return_sequences=8, max_new_tokens=16, seed=seed
        )
        texts += [c.text for c in out]
    assert any(ord(ch) > 0x7F for t in texts for ch in t)
    for text in texts:
        assert "\ufffd" not in text, text


def test_english_copy_never_drifts_into_chinese_characters(writer):
    cjk = [
        i
        for i, raw in enumerate(writer.token_bytes)
        if "免" in raw.decode("utf-8", "ignore") or raw[:1] == b"\xe5"
    ]
    assert cjk, "the test tokenizer should have Chinese tokens"
    biased = biased_writer(writer, cjk, amount=10.0)

    def cjk_chars(language: str) -> int:
        spec = GenerationSpec(content_type="slogan", language=language, product="X")
        texts = [
            c.text
            for seed in range(4)
            for c in biased.generate(
                spec, num_return_sequences=4, max_new_tokens=12, seed=seed
            )
        ]
        return sum(0x3000 <= ord(ch) <= 0x9FFF for t in texts for ch in t)

    assert cjk_chars("zh") > 0  # the bias works: Chinese copy uses them
    assert cjk_chars("en") == 0
