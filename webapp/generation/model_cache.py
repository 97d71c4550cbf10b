"""A per-process LRU of loaded models, so a worker loads each version once.

torch and the generator are imported on first use only, so the web process
and tasks that never generate do not pay for them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings

_lock = threading.Lock()
_models: OrderedDict[tuple, Any] = OrderedDict()


def _key(version) -> tuple:
    # The digest is part of the key: ids can be reused after a test database is
    # flushed, and a re-registered folder must not serve stale weights.
    return (version.pk, version.checkpoint_dir, version.checkpoint_sha256)


def get_copywriter(version) -> tuple[Any, float]:
    """(Copywriter, seconds spent loading: 0.0 when it was cached)."""
    key = _key(version)
    with _lock:
        if key in _models:
            _models.move_to_end(key)
            return _models[key], 0.0
    from generator.api import load_model

    _limit_cpu_threads()
    started = time.perf_counter()
    device = settings.GENERATOR_DEVICE
    copywriter = load_model(
        version.checkpoint_dir, device=None if device == "auto" else device
    )
    elapsed = time.perf_counter() - started
    with _lock:
        _models[key] = copywriter
        _models.move_to_end(key)
        while len(_models) > max(1, settings.MODEL_CACHE_SIZE):
            _, evicted = _models.popitem(last=False)
            _release(evicted)
    return copywriter, elapsed


def _limit_cpu_threads() -> None:
    """Apply TORCH_THREADS: on a shared CPU, one thread beats two fighting ones."""
    if settings.TORCH_THREADS > 0:
        import torch

        torch.set_num_threads(settings.TORCH_THREADS)


def _release(copywriter) -> None:
    device = getattr(copywriter, "device", None)
    del copywriter
    if device is not None and getattr(device, "type", "") == "cuda":
        import torch

        torch.cuda.empty_cache()


def cached_keys() -> list[tuple]:
    with _lock:
        return list(_models)


def clear() -> None:
    with _lock:
        while _models:
            _release(_models.popitem()[1])
