"""Checkpoint folders: config.json, tokenizer.json, model.safetensors, metadata.json.

Weights are stored with safetensors, never pickled, so opening a checkpoint
someone uploaded cannot run code. ReformerLM shares tensors (the tied output
embedding, and the irreversible twin of every reversible block), which plain
``save_file`` refuses; ``safetensors.torch.save_model``/``load_model`` store
each shared tensor once and restore the aliases.

Resumable training state (optimizer moments, RNG state) lives beside the
weights in ``trainer_state.safetensors`` + ``trainer_state.json``, again
without pickle.

:func:`validate_checkpoint` is cheap (JSON files and the safetensors header,
shapes checked against a model built on the meta device) and raises
:class:`CheckpointError` with a message that names the file and the fault.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generator.config import ModelConfig
from generator.tokenizer import CopyTokenizer

CONFIG, TOKENIZER, WEIGHTS, METADATA = (
    "config.json",
    "tokenizer.json",
    "model.safetensors",
    "metadata.json",
)
STATE_TENSORS, STATE_JSON = "trainer_state.safetensors", "trainer_state.json"
FORMAT_VERSION = 1
_DTYPE_SIZES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
}


class CheckpointError(ValueError):
    """A checkpoint directory is missing, incomplete or corrupt."""


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _json_bytes(data: Any) -> bytes:
    return (
        json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    ).encode()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_checkpoint(
    directory: str | Path,
    model: Any,
    config: ModelConfig,
    tokenizer: CopyTokenizer,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint; each file is replaced atomically, metadata.json last."""
    from safetensors.torch import save_model

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if tokenizer.vocab_size != config.vocab_size:
        raise CheckpointError(
            f"tokenizer has {tokenizer.vocab_size} tokens but config.vocab_size is "
            f"{config.vocab_size}"
        )
    _atomic_write(directory / CONFIG, _json_bytes(config.to_dict()))
    tmp_tok = directory / (TOKENIZER + ".tmp")
    tokenizer.save(tmp_tok)
    os.replace(tmp_tok, directory / TOKENIZER)
    tmp_weights = directory / (WEIGHTS + ".tmp")
    save_model(model, str(tmp_weights), metadata={"format": "pt"})
    os.replace(tmp_weights, directory / WEIGHTS)
    meta = dict(metadata or {})
    meta.setdefault("created", datetime.now(UTC).isoformat(timespec="seconds"))
    meta["format_version"] = FORMAT_VERSION
    meta["weights_sha256"] = file_sha256(directory / WEIGHTS)
    _atomic_write(directory / METADATA, _json_bytes(meta))
    return directory


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path.parent} has no {path.name}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON: {exc}") from exc


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The tensor table of a safetensors file, checked against the file size."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path.parent} has no {path.name}")
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path} is truncated (no safetensors header)")
        (length,) = struct.unpack("<Q", head)
        if length > 100_000_000:
            raise CheckpointError(f"{path} is corrupt (header length {length})")
        if length > size - 8:
            raise CheckpointError(
                f"{path} is truncated: its header needs {length} bytes, the file "
                f"has {size - 8} after the length"
            )
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{path} is corrupt (bad header JSON)") from exc
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is corrupt (header is not a table)")
    header.pop("__metadata__", None)
    end = 0
    for name, info in header.items():
        try:
            start, stop = info["data_offsets"]
            count = 1
            for dim in info["shape"]:
                count *= dim
            expected = count * _DTYPE_SIZES[info["dtype"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path} is corrupt (tensor {name!r})") from exc
        if stop - start != expected:
            raise CheckpointError(f"{path} is corrupt (tensor {name!r} size)")
        end = max(end, stop)
    if size != 8 + length + end:
        raise CheckpointError(
            f"{path} is truncated or padded: {size} bytes, expected {8 + length + end}"
        )
    return header


def _expected_shapes(config: ModelConfig) -> tuple[dict[str, tuple], list[list[str]]]:
    """Parameter shapes of the model, and groups of names that share one tensor."""
    import torch

    from generator.model import build_model

    with torch.device("meta"):
        model = build_model(config)
    groups: dict[int, list[str]] = {}
    shapes = {}
    for name, tensor in model.state_dict(keep_vars=True).items():
        shapes[name] = tuple(tensor.shape)
        groups.setdefault(id(tensor), []).append(name)
    return shapes, list(groups.values())


def validate_checkpoint(directory: str | Path) -> dict[str, Any]:
    """Check a checkpoint without loading weights; returns config, metadata, sizes."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(
            f"checkpoint {directory} does not exist or is not a folder"
        )
    raw_config = _read_json(directory / CONFIG)
    if not isinstance(raw_config, dict):
        raise CheckpointError(f"{directory / CONFIG} must hold an object")
    try:
        config = ModelConfig.from_dict(raw_config)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{directory / CONFIG}: {exc}") from exc
    metadata = _read_json(directory / METADATA)
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{directory / METADATA} must hold an object")
    if not (directory / TOKENIZER).is_file():
        raise CheckpointError(f"checkpoint {directory} has no {TOKENIZER}")
    try:
        tokenizer = CopyTokenizer.load(directory / TOKENIZER)
    except ValueError as exc:
        raise CheckpointError(f"{directory / TOKENIZER}: {exc}") from exc
    if tokenizer.vocab_size != config.vocab_size:
        raise CheckpointError(
            f"{directory / TOKENIZER} has {tokenizer.vocab_size} tokens but "
            f"config.json says vocab_size {config.vocab_size}"
        )
    header = read_safetensors_header(directory / WEIGHTS)
    shapes, groups = _expected_shapes(config)
    for name, info in header.items():
        if name not in shapes:
            raise CheckpointError(
                f"{directory / WEIGHTS} has unexpected tensor {name!r}"
            )
        if tuple(info["shape"]) != shapes[name]:
            raise CheckpointError(
                f"{directory / WEIGHTS}: tensor {name!r} has shape "
                f"{tuple(info['shape'])}, config.json implies {shapes[name]}"
            )
    for group in groups:
        if not any(name in header for name in group):
            raise CheckpointError(f"{directory / WEIGHTS} lacks tensor {group[0]!r}")
    return {
        "config": config,
        "metadata": metadata,
        "vocab_size": tokenizer.vocab_size,
        # Parameters and buffers, each shared tensor once.
        "n_params": sum(_numel(info["shape"]) for info in header.values()),
    }


def _numel(shape: list[int]) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count


def load_checkpoint(
    directory: str | Path, device: Any = None
) -> tuple[Any, ModelConfig, CopyTokenizer, dict[str, Any]]:
    """(model in eval mode, config, tokenizer, metadata); CheckpointError if bad.

    The weights' sha256 is checked against metadata.json, so a flipped byte
    is caught, not silently loaded.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    from generator.model import build_model, pick_device

    directory = Path(directory)
    info = validate_checkpoint(directory)
    config, metadata = info["config"], info["metadata"]
    expected = metadata.get("weights_sha256")
    if expected and file_sha256(directory / WEIGHTS) != expected:
        raise CheckpointError(
            f"{directory / WEIGHTS} is corrupt: its sha256 does not match metadata.json"
        )
    device = pick_device(device)
    model = build_model(config)
    try:
        load_model(model, str(directory / WEIGHTS), strict=True, device=str(device))
    except (SafetensorError, RuntimeError, OSError) as exc:
        raise CheckpointError(f"{directory / WEIGHTS} cannot be loaded: {exc}") from exc
    model.to(device).eval()
    tokenizer = CopyTokenizer.load(directory / TOKENIZER)
    return model, config, tokenizer, metadata


def save_training_state(
    directory: str | Path, optimizer: Any, state: dict[str, Any]
) -> None:
    """Optimizer moments and RNG as safetensors, the rest as JSON (no pickle)."""
    import torch
    from safetensors.torch import save_file

    directory = Path(directory)
    opt = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state()}
    scalars: dict[str, dict[str, Any]] = {}
    for index, param_state in opt["state"].items():
        for key, value in param_state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"opt.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    tmp = directory / (STATE_TENSORS + ".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, directory / STATE_TENSORS)
    payload = {"param_groups": opt["param_groups"], "scalars": scalars, **state}
    _atomic_write(directory / STATE_JSON, _json_bytes(payload))


def load_training_state(directory: str | Path, optimizer: Any) -> dict[str, Any]:
    """Restore what save_training_state wrote; returns its JSON state."""
    import torch
    from safetensors.torch import load_file

    directory = Path(directory)
    payload = _read_json(directory / STATE_JSON)
    try:
        tensors = load_file(str(directory / STATE_TENSORS))
    except Exception as exc:  # safetensors raises its own error types
        raise CheckpointError(
            f"{directory / STATE_TENSORS} cannot be read: {exc}"
        ) from exc
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("opt."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for index, values in payload.pop("scalars").items():
        state.setdefault(int(index), {}).update(values)
    optimizer.load_state_dict(
        {"state": state, "param_groups": payload.pop("param_groups")}
    )
    torch.set_rng_state(tensors["rng.torch"])
    return payload
