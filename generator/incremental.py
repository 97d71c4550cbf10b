"""Exact incremental (KV-cached) decoding for reformer_pytorch's ReformerLM.

ReformerLM 1.4.4 has no ``generate()`` and no cache: its LSH attention hashes
with fresh random rotations on every forward pass, so re-running the model on
the whole prefix for every new token is both slow and noisy. For decoding this
module uses *exact* causal shared-QK attention instead, the attention that LSH
approximates during training: every query attends to every earlier position
with keys L2-normalised, self-attention masked to -5e4 unless it is the only
key, scaled by ``dim_head ** -0.5``, and the same rotary position embedding
that ``LSHAttention`` applies to the shared query/key. Because that attention
is causal and deterministic, the hidden state of a position depends only on
earlier positions, so past keys and values can be cached per layer and each new
token costs one position's worth of work.

The step-wise forward reuses the model's own modules and weights: token
embedding, ``layer_pos_emb`` (FixedPositionalEmbedding) applied with the
library's ``apply_rotary_pos_emb``, the reversible blocks (the input is
duplicated into two halves, ``y1 = x1 + f(x2)``, ``y2 = x2 + g(y1)``, each
``f``/``g`` a PreNorm), attention projections ``toqk``/``tov``/``to_out``, the
feed-forward, the mean of the halves, the final norm and the output head.

Note: the library's own ``FullQKAttention`` (used when ``use_full_attn`` is set
or a sequence is shorter than ``full_attn_thres``) silently drops the rotary
``pos_emb`` argument, so the model would see no positions at all. Decoding
keeps rotary (``rotary=True``, the default), matching what the model saw in
training; ``full_attention()`` below builds the library-forward reference for
both cases and the tests check this module against each.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from reformer_pytorch.reformer_pytorch import (
    TOKEN_SELF_ATTN_VALUE,
    Always,
    FixedPositionalEmbedding,
    FullQKAttention,
    LSHSelfAttention,
    MatrixMultiply,
    ReformerLM,
    apply_rotary_pos_emb,
)


class KVCache:
    """Per-layer keys (normalised, rotated) and values of past positions.

    Tensors are (batch * heads, capacity, dim_head), allocated on first write
    and doubled when full, so a step appends in place instead of concatenating.
    """

    def __init__(self, depth: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * depth
        self.values: list[torch.Tensor | None] = [None] * depth
        self.length = 0
        self.batch = 0

    def write(
        self, layer: int, start: int, keys: torch.Tensor, values: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Store positions [start, start + n) and return all cached so far."""
        end = start + keys.shape[1]
        cached_k, cached_v = self.keys[layer], self.values[layer]
        if cached_k is None or cached_k.shape[1] < end or cached_k.dtype != keys.dtype:
            capacity = max(end, 2 * (cached_k.shape[1] if cached_k is not None else 0))
            new_k = keys.new_empty(keys.shape[0], capacity, keys.shape[2])
            new_v = values.new_empty(values.shape[0], capacity, values.shape[2])
            if cached_k is not None and start:
                new_k[:, :start] = cached_k[:, :start]
                new_v[:, :start] = cached_v[:, :start]
            cached_k, cached_v = new_k, new_v
            self.keys[layer], self.values[layer] = cached_k, cached_v
        cached_k[:, start:end] = keys
        cached_v[:, start:end] = values
        return cached_k[:, :end], cached_v[:, :end]

    def select(self, index: torch.Tensor, heads: int) -> None:
        """Keep rows ``index`` of the batch (beam reordering, fan-out).

        ``index`` indexes the model batch; rows are (batch * heads) so each
        chosen row expands to its heads.
        """
        index = index.to(torch.long)
        rows = index[:, None] * heads + torch.arange(heads, device=index.device)
        rows = rows.reshape(-1)
        for layer, (k, v) in enumerate(zip(self.keys, self.values, strict=True)):
            if k is not None:
                self.keys[layer] = k.index_select(0, rows.to(k.device))
                self.values[layer] = v.index_select(0, rows.to(v.device))
        self.batch = int(index.shape[0])


class IncrementalDecoder:
    """Step-wise forward of a ReformerLM with exact causal attention.

    ``forward(ids, cache)`` consumes new tokens (a prompt, or one token per
    row) and returns their logits; the first call with an empty cache is an
    ordinary full-attention forward over the prompt.
    """

    def __init__(self, model: ReformerLM, rotary: bool = True) -> None:
        _check_supported(model)
        self.model = model
        self.rotary = rotary
        self.blocks = list(model.reformer.layers.blocks)
        first = self.blocks[0].f.net.fn
        self.heads = first.heads
        self.dim_head = first.dim_head
        self.v_repeats = first.v_head_repeats
        self._pos_table: torch.Tensor | None = None
        self._head_weight: torch.Tensor | None = None

    @property
    def device(self) -> torch.device:
        return self.model.token_emb.weight.device

    def new_cache(self) -> KVCache:
        return KVCache(len(self.blocks))

    def _rotary_table(self, end: int) -> torch.Tensor:
        if self._pos_table is None or self._pos_table.shape[1] < end:
            length = max(end, self.model.max_seq_len)
            dummy = torch.zeros(1, length, 1, device=self.device)
            self._pos_table = self.model.layer_pos_emb(dummy)
        return self._pos_table

    def _out_head(self, x: torch.Tensor) -> torch.Tensor:
        head = self.model.out
        last = head[-1] if isinstance(head, torch.nn.Sequential) else None
        if isinstance(last, MatrixMultiply) and last.normalize and last.transpose:
            # Weight-tied head: normalise the embedding once, not every step.
            if self._head_weight is None or self._head_weight.device != x.device:
                self._head_weight = F.normalize(last.tensor, dim=-1).t()
            for module in list(head)[:-1]:
                x = module(x)
            return x @ self._head_weight.to(x.dtype)
        return head(x)

    def _attention(
        self,
        attn: LSHSelfAttention,
        x: torch.Tensor,
        layer: int,
        cache: KVCache,
        start: int,
    ) -> torch.Tensor:
        b, t, _ = x.shape
        h, dh = self.heads, self.dim_head
        qk = attn.toqk(x).view(b, t, h, dh).transpose(1, 2).reshape(b * h, t, dh)
        v = attn.tov(x).repeat(1, 1, self.v_repeats)
        v = v.view(b, t, h, dh).transpose(1, 2).reshape(b * h, t, dh)
        if self.rotary:
            sinu = self._rotary_table(start + t)[:, start : start + t]
            qk = apply_rotary_pos_emb(qk, sinu)
        keys = F.normalize(qk, 2, dim=-1).type_as(qk)
        all_k, all_v = cache.write(layer, start, keys, v)
        dots = torch.matmul(qk, all_k.transpose(1, 2)) * (dh**-0.5)
        total = start + t
        q_pos = torch.arange(start, total, device=x.device)[:, None]
        k_pos = torch.arange(total, device=x.device)[None, :]
        dots = dots.masked_fill(q_pos == k_pos, TOKEN_SELF_ATTN_VALUE)
        dots = dots.masked_fill(k_pos > q_pos, -torch.finfo(dots.dtype).max)
        probs = dots.softmax(dim=-1)
        out = torch.matmul(probs, all_v)
        out = out.view(b, h, t, dh).transpose(1, 2).reshape(b, t, h * dh)
        return attn.to_out(out)

    def forward(
        self, ids: torch.Tensor, cache: KVCache, all_logits: bool = False
    ) -> torch.Tensor:
        """Logits (batch, vocab) of the last new position, or of all of them.

        ``ids`` are (batch, n) new tokens at positions [cache.length, +n).
        """
        model = self.model
        start = cache.length
        if cache.length and ids.shape[0] != cache.batch:
            raise ValueError(
                f"ids batch {ids.shape[0]} does not match the cache batch "
                f"{cache.batch}; call cache.select() first"
            )
        use_autocast = ids.device.type == "cuda"
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_autocast):
            x = model.token_emb(ids)
            x = model.to_model_dim(x)
            x1 = x2 = x
            for layer, block in enumerate(self.blocks):
                f, g = block.f.net, block.g.net
                y1 = x1 + self._attention(f.fn, f.norm(x2), layer, cache, start)
                y2 = x2 + g(y1)
                x1, x2 = y1, y2
            x = torch.stack((x1, x2)).mean(dim=0)
            if not all_logits:
                x = x[:, -1:]
            x = model.norm(x)
            logits = self._out_head(x).float()
        cache.length = start + ids.shape[1]
        cache.batch = ids.shape[0]
        return logits if all_logits else logits[:, -1]

    __call__ = forward


def _check_supported(model: ReformerLM) -> None:
    """Refuse configurations this exact re-implementation does not cover."""
    if not isinstance(model, ReformerLM):
        raise TypeError(f"expected a ReformerLM, got {type(model).__name__}")
    if not (isinstance(model.pos_emb, Always) and model.pos_emb.val == 0):
        raise ValueError("incremental decoding supports only rotary position embedding")
    if not isinstance(model.layer_pos_emb, FixedPositionalEmbedding):
        raise ValueError("incremental decoding needs the rotary layer_pos_emb")
    for block in model.reformer.layers.blocks:
        attn = block.f.net.fn
        if not isinstance(attn, LSHSelfAttention):
            raise ValueError("incremental decoding needs PreNorm(LSHSelfAttention)")
        if attn.num_mem_kv or attn.n_local_attn_heads:
            raise ValueError("memory key/values and local attention heads unsupported")
        if not attn.lsh_attn.causal:
            raise ValueError("incremental decoding needs a causal model")


class _RotaryFullQKAttention(FullQKAttention):
    """The library's FullQKAttention with the rotary embedding it drops."""

    def forward(self, qk, v, query_len=None, pos_emb=None, **kwargs):  # noqa: D102
        if pos_emb is not None:
            qk = apply_rotary_pos_emb(qk, pos_emb)
        return super().forward(qk, v, query_len=query_len, **kwargs)


@contextlib.contextmanager
def full_attention(model: ReformerLM, rotary: bool = True) -> Iterator[ReformerLM]:
    """Make ``model(x)`` use exact full shared-QK attention while inside.

    With ``rotary=False`` this is the library's own ``use_full_attn`` path
    (no position information); with ``rotary=True`` the full attention gets
    the rotary embedding LSH attention would have applied. Used as the
    reference for the incremental decoder and to compare LSH with exact
    attention on held-out data.
    """
    saved = []
    for module in model.modules():
        if isinstance(module, LSHSelfAttention):
            saved.append((module, module.use_full_attn, module.full_attn))
            module.use_full_attn = True
            if rotary:
                replacement = _RotaryFullQKAttention(
                    causal=module.full_attn.causal,
                    dropout=module.full_attn.dropout.p,
                )
                replacement.train(module.full_attn.training)
                module.full_attn = replacement
    try:
        yield model
    finally:
        for module, use_full, full_attn in saved:
            module.use_full_attn = use_full
            module.full_attn = full_attn
