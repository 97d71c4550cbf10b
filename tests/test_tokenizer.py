"""The tokenizer is lossless for any text and keeps control codes out of reach."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.prompt import PLACEHOLDERS, SEP, special_tokens
from generator.tokenizer import CopyTokenizer
from tests.fixtures_generator import DEMO_TRAIN, corpus_slice

# Any Unicode text that can be UTF-8 encoded (lone surrogates cannot).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
SPACED = st.lists(
    st.sampled_from(
        [
            " ",
            "  ",
            "\n",
            "\n\n",
            "\t",
            "a",
            "Hi",
            "你好",
            "😀",
            "{product}",
            "<|sep|>",
            "é",
            "\r\n",
        ]
    ),
    max_size=30,
).map("".join)


@pytest.fixture(scope="module")
def tokenizer() -> CopyTokenizer:
    return CopyTokenizer.train((r["text"] for r in corpus_slice(DEMO_TRAIN, 400)), 2000)


@settings(max_examples=300, deadline=None)
@given(text=TEXT)
def test_any_text_round_trips(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text)) == text


@settings(max_examples=200, deadline=None)
@given(text=SPACED)
def test_spaces_newlines_and_mixed_scripts_round_trip(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "   leading",
        "trailing   ",
        "a  b   c",
        "\n\nline\n",
        "混合 English 和中文！",
        "emoji 🎧🔥 and ZWJ 👩‍💻",
        "tab\tand\r\nCRLF",
        "\x00\x7f",
    ],
)
def test_edge_cases_round_trip(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_text_never_produces_control_codes(tokenizer):
    ids = tokenizer.encode("".join(special_tokens()))
    assert not set(ids) & tokenizer.special_ids
    assert tokenizer.decode(ids) == "".join(special_tokens())


def test_placeholders_are_single_tokens(tokenizer):
    for placeholder in PLACEHOLDERS:
        assert tokenizer.encode(placeholder) == [tokenizer.token_id(placeholder)]


def test_common_chinese_gets_merged(tokenizer):
    # Byte fallback would be 12 tokens (3 a character); frequent words merge.
    assert len(tokenizer.encode("降噪耳机")) <= 6


def test_save_and_load_give_the_same_ids(tokenizer, tmp_path):
    tokenizer.save(tmp_path / "tokenizer.json")
    loaded = CopyTokenizer.load(tmp_path / "tokenizer.json")
    text = "Meet {product}: 40小时续航 🎧"
    assert loaded.encode(text) == tokenizer.encode(text)
    assert loaded.token_id(SEP) == tokenizer.sep_id
    assert loaded.vocab_size == tokenizer.vocab_size


def test_loading_a_broken_file_names_it(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read tokenizer"):
        CopyTokenizer.load(path)


def test_vocab_too_small_is_refused():
    with pytest.raises(ValueError, match="vocab_size must be at least"):
        CopyTokenizer.train(["a"], vocab_size=100)
