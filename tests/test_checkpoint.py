"""Checkpoints round-trip exactly and every kind of damage gets a clear error."""

import json
import shutil

import pytest
import torch

from generator.checkpoint import (
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
    validate_checkpoint,
)
from generator.config import ModelConfig
from generator.model import build_model
from generator.tokenizer import CopyTokenizer
from tests.fixtures_generator import DEMO_TRAIN, MICRO_MODEL, corpus_slice


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    tokenizer = CopyTokenizer.train(
        (r["text"] for r in corpus_slice(DEMO_TRAIN, 200)), 500
    )
    # Tied, as in the small and base presets: the shared tensor must survive.
    config = ModelConfig(
        **{
            **MICRO_MODEL,
            "vocab_size": tokenizer.vocab_size,
            "weight_tie_embedding": True,
        }
    )
    torch.manual_seed(0)
    model = build_model(config).eval()
    directory = tmp_path_factory.mktemp("ckpt")
    save_checkpoint(directory, model, config, tokenizer, {"steps": 3, "parent": None})
    return directory, model, config, tokenizer


@pytest.fixture
def copy(saved, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(saved[0], target)
    return target


def config_of(saved) -> dict:
    return saved[2].to_dict()


def _logits(model, ids, seed=11):
    torch.manual_seed(seed)  # LSH rotations are drawn on every forward pass
    with torch.no_grad():
        return model(ids, input_mask=torch.ones_like(ids, dtype=torch.bool))


def test_round_trip_gives_identical_logits(saved):
    directory, model, config, tokenizer = saved
    loaded, loaded_config, loaded_tok, metadata = load_checkpoint(
        directory, device="cpu"
    )
    ids = torch.randint(0, config.vocab_size, (2, 32))
    assert torch.equal(_logits(model, ids), _logits(loaded, ids))
    assert loaded_config == config
    assert loaded_tok.encode("降噪 {product}") == tokenizer.encode("降噪 {product}")
    assert metadata["steps"] == 3 and metadata["created"] and metadata["weights_sha256"]


def test_tied_embedding_stays_tied_after_loading(saved):
    loaded, *_ = load_checkpoint(saved[0], device="cpu")
    assert loaded.out[1].tensor is loaded.token_emb.weight


def test_validate_reports_config_and_size(saved):
    info = validate_checkpoint(saved[0])
    assert info["config"] == saved[2] and info["vocab_size"] == saved[3].vocab_size
    model = saved[1]
    stored = [*model.parameters(), *model.buffers()]
    assert info["n_params"] == sum(t.numel() for t in stored)


@pytest.mark.parametrize(
    "name", ["config.json", "tokenizer.json", "model.safetensors", "metadata.json"]
)
def test_missing_file_is_named(copy, name):
    (copy / name).unlink()
    with pytest.raises(CheckpointError, match=f"has no {name}"):
        validate_checkpoint(copy)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        validate_checkpoint(tmp_path / "nope")


def test_bad_json_is_named(copy):
    (copy / "config.json").write_text("{oops")
    with pytest.raises(CheckpointError, match="config.json is not valid JSON"):
        validate_checkpoint(copy)


def test_unknown_config_key_is_named(copy):
    data = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**data, "wings": 2}))
    with pytest.raises(
        CheckpointError, match=r"unknown model config keys: \['wings'\]"
    ):
        validate_checkpoint(copy)


def test_vocab_size_mismatch_is_named(copy):
    data = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**data, "vocab_size": 999}))
    with pytest.raises(
        CheckpointError, match="tokens but config.json says vocab_size 999"
    ):
        validate_checkpoint(copy)


def test_shape_mismatch_is_named(copy):
    data = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**data, "dim": 64, "dim_head": 32}))
    with pytest.raises(CheckpointError, match="has shape .* config.json implies"):
        validate_checkpoint(copy)


def test_truncated_weights_are_named(copy):
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="truncated"):
        validate_checkpoint(copy)


def test_garbage_weights_are_named(copy):
    (copy / "model.safetensors").write_bytes(b"\x80\x04pickle?" * 10)
    with pytest.raises(CheckpointError, match="model.safetensors is corrupt"):
        validate_checkpoint(copy)


def test_flipped_weight_byte_is_caught_on_load(copy):
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    validate_checkpoint(copy)  # the header is intact, so the cheap check passes
    with pytest.raises(CheckpointError, match="sha256 does not match"):
        load_checkpoint(copy, device="cpu")


def test_save_refuses_mismatched_tokenizer(saved, tmp_path):
    _, model, config, tokenizer = saved
    other = ModelConfig(**{**config_of(saved), "vocab_size": tokenizer.vocab_size + 1})
    with pytest.raises(CheckpointError, match="config.vocab_size"):
        save_checkpoint(tmp_path, model, other, tokenizer)


def test_demo_model_is_valid_and_trained_on_the_shipped_corpus(demo_checkpoint):
    from generator.data import read_corpus, rows_hash
    from tests.fixtures_generator import DEMO_HELDOUT

    info = validate_checkpoint(demo_checkpoint)
    assert info["config"].preset == "tiny"
    assert info["metadata"]["data_hash"] == rows_hash(read_corpus(DEMO_TRAIN))
    assert info["metadata"]["heldout_hash"] == rows_hash(read_corpus(DEMO_HELDOUT))
    report = json.loads((demo_checkpoint / "eval_report.json").read_text())
    assert report["generation"]["banned_word_rate"] == 0
