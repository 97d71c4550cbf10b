"""Prompts: control codes in a fixed order, truncation by importance, placeholders."""

import pytest

from generator.prompt import (
    BOS,
    EOS,
    SEP,
    GenerationSpec,
    build_example,
    build_prompt,
    copy_length,
    delexicalize,
    relexicalize,
    unfilled_placeholders,
)
from generator.tokenizer import CopyTokenizer
from tests.fixtures_generator import DEMO_TRAIN, corpus_slice

FULL = {
    "content_type": "social_post",
    "language": "en",
    "channel": "social",
    "tone": ["playful", "bold"],
    "persona": {"name": "Busy parents", "age": "30-45", "interests": ["cooking"]},
    "brand": "Green Table",
    "product": "Weeknight Box",
    "facts": ["15-minute recipes", "free delivery"],
    "keywords": ["meal kit", "easy dinners", "family meals"],
}


@pytest.fixture(scope="module")
def tokenizer() -> CopyTokenizer:
    return CopyTokenizer.train((r["text"] for r in corpus_slice(DEMO_TRAIN, 300)), 1000)


def test_prompt_has_every_field_in_order(tokenizer):
    prompt = build_prompt(GenerationSpec.from_dict(FULL), tokenizer, 200)
    assert prompt.dropped == []
    assert prompt.ids[0] == tokenizer.bos_id and prompt.ids[-1] == tokenizer.sep_id
    order = [
        "<|type:social_post|>",
        "<|lang:en|>",
        "<|channel:social|>",
        "<|tone|>",
        "<|persona|>",
        "<|brand|>",
        "<|product|>",
        "<|facts|>",
        "<|keywords|>",
    ]
    positions = [prompt.ids.index(tokenizer.token_id(t)) for t in order]
    assert positions == sorted(positions)
    assert prompt.text.startswith(BOS) and prompt.text.endswith(SEP)
    # Names travel as placeholders, facts as placeholder + words; tone, persona
    # and keywords literally.
    assert "Weeknight Box" not in prompt.text and "{product}" in prompt.text
    assert "{fact1} 15-minute recipes; {fact2} free delivery" in prompt.text
    assert "playful, bold" in prompt.text and "easy dinners" in prompt.text
    assert "interests: cooking" in prompt.text


def test_truncation_drops_least_important_fields_first(tokenizer):
    spec = GenerationSpec.from_dict(FULL)
    full = len(build_prompt(spec, tokenizer, 500).ids)
    dropped_by_budget = [
        build_prompt(spec, tokenizer, budget).dropped for budget in range(full, 3, -1)
    ]
    final = dropped_by_budget[-1]
    # Each field is reported once, in DROP_ORDER, as the budget shrinks.
    assert final == [
        "persona",
        "tone",
        "channel",
        "keywords",
        "facts",
        "brand",
        "product",
    ]
    for dropped in dropped_by_budget:
        assert dropped == final[: len(dropped)]
    tight = build_prompt(spec, tokenizer, full - 2)
    assert tight.dropped == ["persona"] and len(tight.ids) <= full - 2
    assert tokenizer.token_id("<|keywords|>") in tight.ids


def test_partly_dropped_list_keeps_its_first_items(tokenizer):
    spec = GenerationSpec.from_dict({**FULL, "persona": {}, "tone": [], "channel": ""})
    full = build_prompt(spec, tokenizer, 500)
    smaller = build_prompt(spec, tokenizer, len(full.ids) - 3)
    assert smaller.dropped == ["keywords"]
    assert "meal kit" in smaller.text and "family meals" not in smaller.text


def test_prompt_too_small_for_type_and_language_is_refused(tokenizer):
    with pytest.raises(ValueError, match="max_prompt_tokens must be at least 4"):
        build_prompt(GenerationSpec(content_type="slogan"), tokenizer, 3)


def test_training_example_is_prompt_plus_delexicalized_target_plus_eos(tokenizer):
    spec = GenerationSpec.from_dict(FULL)
    example = build_example(spec, "Weeknight Box: 15-minute recipes!", tokenizer, 256)
    prompt = build_prompt(spec, tokenizer, 256)
    assert example.ids[: example.prompt_len] == prompt.ids
    target = example.ids[example.prompt_len :]
    assert target[-1] == tokenizer.eos_id
    assert tokenizer.decode(target) == "{product}: {fact1}!"


def test_example_whose_target_cannot_fit_is_skipped(tokenizer):
    spec = GenerationSpec(content_type="slogan")
    assert build_example(spec, "word " * 100, tokenizer, 32) is None


def test_relexicalize_fills_capitalizes_and_removes_unknown_placeholders():
    spec = GenerationSpec(
        content_type="ad_description", product="Aurora X2", facts=["a 40-hour battery"]
    )
    text = "Meet {product}. {fact1} keeps going, {fact2} too. By {brand}."
    out = relexicalize(text, spec)
    assert out == "Meet Aurora X2. A 40-hour battery keeps going, too. By."
    assert "{" not in out
    assert unfilled_placeholders(text, spec) == ["{fact2}", "{brand}"]


def test_delexicalize_is_case_insensitive_and_longest_first():
    spec = GenerationSpec(content_type="slogan", product="Aurora", brand="Aurora Audio")
    assert (
        delexicalize("AURORA AUDIO makes aurora.", spec) == "{brand} makes {product}."
    )


def test_wide_characters_count_double():
    assert copy_length("abc") == 3
    assert copy_length("降噪耳机") == 8
    assert copy_length("Ａ😀") == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"content_type": "tweet"}, "content_type must be one of ad_headline"),
        (
            {"content_type": "slogan", "language": "fr"},
            "language must be one of en, zh",
        ),
        (
            {"content_type": "slogan", "channel": "tv"},
            "channel must be empty or one of",
        ),
        ({"content_type": "slogan", "tone": "bold"}, "tone must be a list of strings"),
        ({"content_type": "slogan", "persona": ["x"]}, "persona must be an object"),
        ({"content_type": "slogan", "colour": "red"}, "unknown spec fields: colour"),
        ({"language": "en"}, "content_type is required"),
    ],
)
def test_invalid_spec_says_what_is_wrong(data, message):
    with pytest.raises(ValueError, match=message):
        GenerationSpec.from_dict(data)


def test_spec_round_trips_through_dict():
    spec = GenerationSpec.from_dict(FULL)
    assert GenerationSpec.from_dict(spec.to_dict()) == spec
    assert EOS not in spec.to_dict().values()


def test_keywords_become_placeholders_and_come_back(tokenizer):
    spec = GenerationSpec(
        content_type="ad_headline",
        product="Fresh15",
        keywords=["meal kit", "Easy Dinners"],
    )
    example = build_example(
        spec, "Easy dinners with the Fresh15 meal kit", tokenizer, 64
    )
    target = tokenizer.decode(example.ids[example.prompt_len :])
    assert target == "{kw2} with the {product} {kw1}"
    prompt = build_prompt(spec, tokenizer, 64)
    assert "{kw1} meal kit, {kw2} Easy Dinners" in prompt.text
    assert relexicalize(target, spec) == "Easy Dinners with the Fresh15 meal kit"
