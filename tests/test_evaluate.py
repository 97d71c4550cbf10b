"""The evaluation report has every promised measurement, computed correctly."""

import json

from generator.evaluate import distinct_n, evaluate, generation_metrics
from tests.fixtures_generator import DEMO_HELDOUT, corpus_slice


def test_report_has_every_key_and_no_banned_words(trained_tiny_checkpoint, tmp_path):
    rows = [r for r in corpus_slice(DEMO_HELDOUT, 200)]
    out = tmp_path / "report.json"
    report = evaluate(
        trained_tiny_checkpoint, rows, out, per_group=1, num_return_sequences=2, seed=3
    )
    assert json.loads(out.read_text(encoding="utf-8")) == report
    held = report["heldout"]
    assert held["perplexity"] > 1 and held["rows"] == len(rows)
    assert set(held["by_content_type"]) == {r["content_type"] for r in rows}
    gen = report["generation"]
    for key in (
        "distinct_1",
        "distinct_2",
        "duplicate_rate",
        "banned_word_rate",
        "keyword_coverage",
        "product_coverage",
        "length_compliance",
        "length_compliance_overall",
        "tokens_per_s",
        "unfilled_placeholder_rate",
    ):
        assert key in gen, key
    assert gen["banned_word_rate"] == 0
    assert gen["candidates"] == len(report["samples"]) == 14 * 2
    assert gen["tokens_per_s"] > 0


def test_generation_metrics_count_what_they_say():
    spec = {
        "content_type": "slogan",
        "language": "en",
        "product": "Aurora",
        "keywords": ["sound", "bass"],
    }
    samples = [
        {"spec": spec, "text": "Aurora: big sound."},
        {"spec": spec, "text": "Aurora: big sound."},
        {"spec": spec, "text": "Cheap {fact1} thrills"},
    ]
    metrics = generation_metrics(samples, ["cheap"])
    assert metrics["duplicate_rate"] == round(2 / 3, 4)
    assert metrics["banned_word_rate"] == round(1 / 3, 4)
    assert metrics["keyword_coverage"] == round(2 / 6, 4)
    assert metrics["product_coverage"] == round(2 / 3, 4)
    assert metrics["unfilled_placeholder_rate"] == round(1 / 3, 4)
    assert metrics["length_compliance"] == {"slogan": 1.0}


def test_distinct_counts_chinese_by_character():
    assert distinct_n(["好好好"], 1) == 1 / 3
    assert distinct_n(["a b a b"], 2) == 2 / 3
