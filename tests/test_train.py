"""Training lowers held-out loss, masks the prompt, stops cleanly and resumes."""

import json

import pytest
import torch

from generator.checkpoint import load_checkpoint, validate_checkpoint
from generator.config import ModelConfig, TrainConfig
from generator.prompt import GenerationSpec, build_example
from generator.tokenizer import CopyTokenizer
from generator.train import (
    batches_for_epoch,
    collate,
    evaluate_loss,
    finetune,
    lr_factor,
    make_examples,
    train,
)
from tests.fixtures_generator import (
    DEMO_HELDOUT,
    DEMO_TRAIN,
    MICRO_MODEL,
    corpus_slice,
)

ROWS = corpus_slice(DEMO_TRAIN, 160)
HELD = corpus_slice(DEMO_HELDOUT, 24)


def _config(**overrides) -> TrainConfig:
    base = dict(
        learning_rate=3e-3,
        warmup_steps=2,
        max_steps=8,
        batch_size=8,
        eval_every=4,
        eval_batches=2,
        checkpoint_every=4,
        seed=5,
    )
    return TrainConfig(**{**base, **overrides})


def _train(out, **overrides):
    return train(
        ROWS,
        out,
        heldout_data=HELD,
        model_config=ModelConfig(**MICRO_MODEL),
        train_config=_config(**overrides),
        device="cpu",
        progress_bar=False,
    )


def test_training_lowers_heldout_loss(trained_tiny_checkpoint):
    model, config, tokenizer, metadata = load_checkpoint(trained_tiny_checkpoint, "cpu")
    examples, _ = make_examples(
        corpus_slice(DEMO_HELDOUT, 40), tokenizer, config.max_seq_len
    )
    trained = evaluate_loss(model, examples, tokenizer, config, seed=1)["loss"]
    torch.manual_seed(7)
    from generator.model import build_model

    untrained = evaluate_loss(build_model(config), examples, tokenizer, config, seed=1)[
        "loss"
    ]
    assert trained < untrained - 0.25
    history = metadata["metrics"]["history"]
    assert history[-1][1] < history[0][1]
    assert metadata["steps"] == 40 and metadata["data_hash"]
    assert metadata["parent"] is None and "lsh" in metadata["attention"]


def test_loss_only_on_target_and_padding_fits_lsh_chunks():
    tokenizer = CopyTokenizer.train((r["text"] for r in ROWS), 500)
    spec = GenerationSpec(content_type="slogan", product="X")
    short = build_example(spec, "Hi {product}.", tokenizer, 64)
    longer = build_example(spec, "A longer line for {product} here.", tokenizer, 64)
    inputs, mask, labels = collate([short, longer], tokenizer.pad_id, bucket_size=16)
    assert inputs.shape[1] % 32 == 0
    n = len(short.ids) - 1
    assert mask[0, :n].all() and not mask[0, n:].any()
    assert (labels[0, : short.prompt_len - 1] == -100).all()
    assert labels[0, short.prompt_len - 1 : n].tolist() == short.ids[short.prompt_len :]
    assert (labels[0, n:] == -100).all()
    assert labels[0, n - 1] == tokenizer.eos_id


def test_batches_group_similar_lengths_and_depend_on_seed_and_epoch():
    tokenizer = CopyTokenizer.train((r["text"] for r in ROWS), 500)
    examples, _ = make_examples(ROWS, tokenizer, 128)
    batches = batches_for_epoch(examples, 8, seed=1, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(len(examples)))
    assert batches == batches_for_epoch(examples, 8, seed=1, epoch=0)
    assert batches != batches_for_epoch(examples, 8, seed=1, epoch=1)
    spread = [
        max(len(examples[i].ids) for i in b) - min(len(examples[i].ids) for i in b)
        for b in batches
    ]
    assert sum(spread) / len(spread) < 25


def test_schedule_warms_up_then_decays():
    assert lr_factor(0, 10, 100) == pytest.approx(0.1)
    assert lr_factor(9, 10, 100) == pytest.approx(1.0)
    assert lr_factor(55, 10, 100) < 1.0
    assert lr_factor(100, 10, 100) == pytest.approx(0.1)


def test_should_stop_stops_and_resume_continues_the_same_run(tmp_path):
    straight = _train(tmp_path / "straight")
    calls = []

    def stop_at_four() -> bool:
        return len(calls) >= 4

    train(
        ROWS,
        tmp_path / "split",
        heldout_data=HELD,
        model_config=ModelConfig(**MICRO_MODEL),
        train_config=_config(),
        device="cpu",
        progress_bar=False,
        should_stop=stop_at_four,
        on_progress=lambda step, total, metrics: calls.append((step, total)),
    )
    stopped = json.loads((tmp_path / "split" / "metadata.json").read_text())
    assert stopped["steps"] == 4 and stopped["stop_reason"] == "should_stop"
    assert calls[0] == (1, 8)
    resumed = train(
        ROWS,
        tmp_path / "split",
        heldout_data=HELD,
        model_config=ModelConfig(**MICRO_MODEL),
        train_config=_config(),
        device="cpu",
        progress_bar=False,
        resume=True,
    )
    assert resumed.metrics["steps"] == 8
    assert resumed.metrics["history"] == straight.metrics["history"]
    a, *_ = load_checkpoint(straight.checkpoint_dir, "cpu")
    b, *_ = load_checkpoint(resumed.checkpoint_dir, "cpu")
    for (name, x), (_, y) in zip(
        a.state_dict().items(), b.state_dict().items(), strict=True
    ):
        assert torch.allclose(x, y, atol=1e-6), name


def test_ctrl_c_keeps_a_valid_checkpoint(tmp_path):
    def interrupt(step, total, metrics):
        if step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(
            ROWS,
            tmp_path / "run",
            heldout_data=HELD,
            model_config=ModelConfig(**MICRO_MODEL),
            train_config=_config(),
            device="cpu",
            progress_bar=False,
            on_progress=interrupt,
        )
    validate_checkpoint(tmp_path / "run")
    assert json.loads((tmp_path / "run" / "metadata.json").read_text())["steps"] == 3
    assert (tmp_path / "run" / "resume" / "trainer_state.json").is_file()


def test_finetune_keeps_tokenizer_and_records_parent(trained_tiny_checkpoint, tmp_path):
    brand_rows = [
        r
        for r in corpus_slice(DEMO_TRAIN, 600, offset=300)
        if r["category"] == "coffee"
    ][:40]
    result = finetune(
        trained_tiny_checkpoint,
        brand_rows,
        tmp_path / "ft",
        train_config=_config(max_steps=6, eval_every=3),
        device="cpu",
        progress_bar=False,
    )
    _, config, tokenizer, metadata = load_checkpoint(result.checkpoint_dir, "cpu")
    parent_tok = (trained_tiny_checkpoint / "tokenizer.json").read_text()
    assert (result.checkpoint_dir / "tokenizer.json").read_text() == parent_tok
    assert metadata["parent"] == str(trained_tiny_checkpoint.resolve())
    assert metadata["train_rows"] + metadata["heldout_rows"] == len(brand_rows)
    history = result.metrics["history"]
    assert history[-1][1] <= history[0][1]


def test_rows_too_long_for_the_model_are_refused(tmp_path):
    tiny = ModelConfig(**{**MICRO_MODEL, "max_seq_len": 32})
    long_rows = [r for r in ROWS if r["content_type"] == "video_script"]
    with pytest.raises(ValueError, match="no training or held-out rows fit"):
        train(
            long_rows,
            tmp_path,
            model_config=tiny,
            train_config=_config(),
            device="cpu",
            progress_bar=False,
        )
