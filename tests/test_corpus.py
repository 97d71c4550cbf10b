"""The demo corpus is reproducible and complete; user corpora are validated by line."""

import json

import pytest

from generator.corpus.build import build
from generator.data import CorpusError, import_corpus, read_corpus, validate_rows
from generator.prompt import (
    CONTENT_TYPES,
    LANGUAGES,
    LENGTH_LIMITS,
    GenerationSpec,
    copy_length,
    relexicalize,
)
from tests.fixtures_generator import DEMO_HELDOUT, DEMO_TRAIN


def test_build_is_reproducible_and_covers_every_type_and_language():
    first, first_held = build(seed=3, scale=0.04)
    second, second_held = build(seed=3, scale=0.04)
    assert first == second and first_held == second_held
    assert {(r["content_type"], r["language"]) for r in first + first_held} == {
        (ct, lang) for ct in CONTENT_TYPES for lang in LANGUAGES
    }
    assert build(seed=4, scale=0.04)[0] != first


def test_shipped_corpus_is_the_build_script_output():
    train, heldout = build()
    shipped = [json.loads(line) for line in DEMO_TRAIN.open(encoding="utf-8")]
    shipped_held = [json.loads(line) for line in DEMO_HELDOUT.open(encoding="utf-8")]
    assert shipped == train and shipped_held == heldout


def test_shipped_corpus_rows_are_valid_and_within_length_limits():
    train, heldout = read_corpus(DEMO_TRAIN), read_corpus(DEMO_HELDOUT)
    assert len(train) >= 6000 and 0.08 <= len(heldout) / len(train) <= 0.15
    assert not {r["text"] for r in train} & {r["text"] for r in heldout}
    for row in train + heldout:
        spec = GenerationSpec.from_dict(row, strict=False)
        text = relexicalize(row["text"], spec)
        low, high = LENGTH_LIMITS[spec.content_type]
        assert low <= copy_length(text) <= high, text
        # Every keyword asked for is in the copy; every fact placeholder has a fact.
        assert all(k.lower() in text.lower() for k in spec.keywords), row
        assert "{" not in text, row


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


GOOD = {"text": "Fresh coffee, fast.", "content_type": "slogan", "language": "en"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "x", ', "bad JSON"),
        (json.dumps({"content_type": "slogan", "language": "en"}), "text is required"),
        (json.dumps({**GOOD, "content_type": "poem"}), "content_type must be one of"),
        (json.dumps({**GOOD, "language": "de"}), "language must be one of en, zh"),
        (json.dumps({**GOOD, "tone": "bold"}), "tone must be a list of strings"),
        (json.dumps({**GOOD, "facts": [1, 2]}), "facts must be a list of strings"),
        (
            json.dumps({**GOOD, "text": "x" * 61}),
            "text is 61 characters long, over the 60",
        ),
        ("[1, 2]", "row must be a JSON object"),
    ],
)
def test_malformed_jsonl_row_names_its_line(tmp_path, line, message):
    good = json.dumps(GOOD)
    path = _write(tmp_path, "corpus.jsonl", f"{good}\n\n{line}\n{good}\n")
    with pytest.raises(CorpusError) as info:
        read_corpus(path)
    assert str(info.value).startswith(f"{path}:3: ")
    assert message in str(info.value)


def test_every_bad_line_is_listed(tmp_path):
    path = _write(tmp_path, "corpus.jsonl", "{\n" + json.dumps(GOOD) + "\n{\n")
    with pytest.raises(CorpusError) as info:
        read_corpus(path)
    assert [e.split(": ")[0] for e in info.value.errors] == [f"{path}:1", f"{path}:3"]
    assert "(and 1 more)" in str(info.value)


def test_csv_row_error_names_the_line_after_a_multiline_cell(tmp_path):
    path = _write(
        tmp_path,
        "corpus.csv",
        "text,content_type,language,tone\n"
        '"Two\nlines",slogan,en,bold; warm\n'
        "Plain,slogan,klingon,\n",
    )
    with pytest.raises(CorpusError, match=r"corpus.csv:4: language must be one of"):
        read_corpus(path)


def test_csv_lists_and_persona_are_parsed(tmp_path):
    path = _write(
        tmp_path,
        "corpus.csv",
        "text,content_type,language,tone,keywords,persona,notes\n"
        'Big sound.,slogan,en,bold; warm,"[""hi-fi""]","{""name"": ""Students""}",x\n',
    )
    (row,) = read_corpus(path)
    assert row["tone"] == ["bold", "warm"] and row["keywords"] == ["hi-fi"]
    assert row["persona"] == {"name": "Students"} and "notes" not in row


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "text,language\nHi,en\n",
            "corpus.csv:1: header lacks column(s): content_type",
        ),
        ("text,content_type,language\nHi,slogan\n", "corpus.csv:2: row has 2 cells"),
        (
            "text,content_type,language,persona\nHi there,slogan,en,{bad\n",
            "corpus.csv:2: persona is not valid JSON",
        ),
    ],
)
def test_malformed_csv_names_the_problem(tmp_path, content, message):
    path = _write(tmp_path, "corpus.csv", content)
    with pytest.raises(
        CorpusError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        read_corpus(path)


def test_import_writes_validated_jsonl_and_nothing_on_error(tmp_path):
    source = _write(
        tmp_path, "in.csv", "text,content_type,language\n好咖啡。,slogan,zh\n"
    )
    out = tmp_path / "out.jsonl"
    assert import_corpus(source, out) == 1
    assert read_corpus(out)[0]["text"] == "好咖啡。"
    bad = _write(tmp_path, "bad.csv", "text,content_type,language\nx,slogan,fr\n")
    with pytest.raises(CorpusError):
        import_corpus(bad, tmp_path / "never.jsonl")
    assert not (tmp_path / "never.jsonl").exists()


def test_in_memory_rows_are_named_by_position():
    with pytest.raises(CorpusError, match="row 2: text is required"):
        validate_rows([GOOD, {**GOOD, "text": " "}])


def test_wrong_file_type_is_refused(tmp_path):
    path = _write(tmp_path, "corpus.txt", "hello")
    with pytest.raises(CorpusError, match="must be a .jsonl or .csv file"):
        read_corpus(path)
