"""The KV-cached decoder computes exactly what the full forward computes."""

from __future__ import annotations

import pytest
import torch

from generator.config import ModelConfig
from generator.incremental import IncrementalDecoder, full_attention
from generator.model import build_model, pad_to_bucket_multiple

CONFIG = ModelConfig(
    vocab_size=300, dim=64, depth=3, heads=4, dim_head=16, max_seq_len=128,
    bucket_size=16, n_hashes=2,
)  # fmt: skip


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(CONFIG).eval()


def _incremental_logits(decoder, ids, prefill):
    cache = decoder.new_cache()
    pieces = [decoder(ids[:, :prefill], cache, all_logits=True)]
    for position in range(prefill, ids.shape[1]):
        pieces.append(decoder(ids[:, position : position + 1], cache, all_logits=True))
    return torch.cat(pieces, dim=1)


@pytest.mark.parametrize("rotary", [True, False])
def test_incremental_logits_equal_the_full_attention_forward(model, rotary):
    ids = torch.randint(
        0, CONFIG.vocab_size, (3, 50), generator=torch.Generator().manual_seed(1)
    )
    with torch.inference_mode():
        with full_attention(model, rotary=rotary):
            reference = model(ids)
        incremental = _incremental_logits(IncrementalDecoder(model, rotary), ids, 7)
    assert incremental.shape == reference.shape
    torch.testing.assert_close(incremental, reference, atol=2e-5, rtol=1e-5)


def test_rotary_changes_the_logits_so_the_comparison_is_not_vacuous(model):
    ids = torch.randint(
        0, CONFIG.vocab_size, (1, 20), generator=torch.Generator().manual_seed(2)
    )
    with torch.inference_mode():
        with_rotary = IncrementalDecoder(model, True)(
            ids, IncrementalDecoder(model).new_cache(), True
        )
        without = IncrementalDecoder(model, False)(
            ids, IncrementalDecoder(model).new_cache(), True
        )
    assert (with_rotary - without).abs().max() > 1e-3


def test_full_attention_context_restores_lsh(model):
    attn = model.reformer.layers.blocks[0].f.net.fn
    before = attn.full_attn
    with full_attention(model):
        assert attn.use_full_attn and attn.full_attn is not before
    assert not attn.use_full_attn and attn.full_attn is before


def test_cache_select_reorders_rows_like_recomputing(model):
    gen = torch.Generator().manual_seed(3)
    ids = torch.randint(0, CONFIG.vocab_size, (3, 12), generator=gen)
    nxt = torch.randint(0, CONFIG.vocab_size, (4, 1), generator=gen)
    order = torch.tensor([2, 0, 0, 1])
    decoder = IncrementalDecoder(model)
    with torch.inference_mode():
        cache = decoder.new_cache()
        decoder(ids, cache)
        cache.select(order, decoder.heads)
        stepped = decoder(nxt, cache)
        fresh = decoder(torch.cat([ids[order], nxt], 1), decoder.new_cache())
    torch.testing.assert_close(stepped, fresh, atol=2e-5, rtol=1e-5)


def test_decoding_is_deterministic_unlike_lsh(model):
    ids = torch.randint(
        0, CONFIG.vocab_size, (1, 64), generator=torch.Generator().manual_seed(4)
    )
    decoder = IncrementalDecoder(model)
    with torch.inference_mode():
        first = decoder(ids, decoder.new_cache(), True)
        second = decoder(ids, decoder.new_cache(), True)
        lsh_a, lsh_b = model(ids), model(ids)
    assert torch.equal(first, second)
    assert not torch.equal(lsh_a, lsh_b)  # fresh random rotations each call


def test_pad_to_bucket_multiple_pads_ids_and_mask():
    ids = torch.ones(2, 40, dtype=torch.long)
    padded, mask = pad_to_bucket_multiple(ids, bucket_size=16, pad_id=0)
    assert padded.shape == (2, 64) and mask.shape == (2, 64)
    assert mask[:, :40].all() and not mask[:, 40:].any()
    assert (padded[:, 40:] == 0).all()
    same, mask = pad_to_bucket_multiple(torch.ones(1, 32, dtype=torch.long), 16)
    assert same.shape == (1, 32) and mask.all()


def test_padded_lsh_forward_runs_and_keeps_real_positions(model):
    ids = torch.randint(
        1, CONFIG.vocab_size, (2, 40), generator=torch.Generator().manual_seed(5)
    )
    padded, mask = pad_to_bucket_multiple(ids, CONFIG.bucket_size)
    torch.manual_seed(0)
    with torch.inference_mode():
        logits = model(padded, input_mask=mask)
    assert logits.shape == (2, 64, CONFIG.vocab_size)
    assert torch.isfinite(logits[:, :40]).all()
