"""Generation and training throughput of the ReformerLM presets (prints numbers).

Run: ``.venv/bin/python benchmarks/generation.py [--presets tiny small]``.

For each preset (random initialisation: speed does not depend on the weights)
it measures 8 candidates x 64 new tokens from a 32-token prompt

* baseline: ``reformer_pytorch.generative_tools.TrainingWrapper.generate``
  called once per candidate; it re-runs the whole (padded) prefix through LSH
  attention for every token;
* ours: :func:`generator.decoding.generate_tokens` with the KV-cached exact
  decoder, all 8 candidates as one batch, top-k 50 sampling;

then the arithmetic limit (FLOPs per generated token against the measured
matmul rate of this CPU), training tokens/s (forward + backward + AdamW), and
peak memory. Finally it trains a tiny model for a short while on text and
reports the held-out loss of the LSH forward against exact full attention
(with and without the rotary embedding the library's full attention drops).
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from reformer_pytorch.generative_tools import TrainingWrapper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.config import ModelConfig, get_preset  # noqa: E402
from generator.decoding import CachedLM, generate_tokens  # noqa: E402
from generator.incremental import IncrementalDecoder, full_attention  # noqa: E402
from generator.model import build_model, pad_to_bucket_multiple  # noqa: E402
from generator.params import GenerationParams  # noqa: E402

CANDIDATES, NEW_TOKENS, PROMPT_TOKENS = 8, 64, 32


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_gflops() -> tuple[float, float]:
    """Peak (512x512 @ 512x512) and decode-shaped (8 x dim @ dim x 4dim) rates."""

    def rate(m, k, n, repeat):
        a, b = torch.randn(m, k), torch.randn(k, n)
        for _ in range(3):
            a @ b
        start = time.perf_counter()
        for _ in range(repeat):
            a @ b
        return 2 * m * k * n * repeat / (time.perf_counter() - start) / 1e9

    return rate(512, 512, 512, 50), rate(8, 256, 1024, 2000)


def flops_per_token(config: ModelConfig, context: int) -> float:
    """2 x weights touched per token (incl. the tied output head) + attention."""
    d, hd = config.dim, config.heads * config.dim_head
    per_layer = 2 * (d * hd * 2 + hd * d) + 2 * (2 * d * config.ff_mult * d)
    attention = 2 * 2 * context * hd
    head = 2 * d * config.vocab_size
    return config.depth * (per_layer + attention) + head


def bench_generation(config: ModelConfig, model) -> dict:
    gen = torch.Generator().manual_seed(0)
    prompt = torch.randint(4, config.vocab_size, (PROMPT_TOKENS,), generator=gen)
    wrapper = TrainingWrapper(model)
    torch.manual_seed(0)
    start = time.perf_counter()
    with torch.inference_mode():
        for _ in range(CANDIDATES):
            wrapper.generate(prompt[None], NEW_TOKENS, filter_thres=0.9)
    baseline_s = time.perf_counter() - start

    params = GenerationParams(
        max_new_tokens=NEW_TOKENS, num_return_sequences=CANDIDATES, top_k=50, seed=0
    )
    decoder = IncrementalDecoder(model)
    with torch.inference_mode():
        generate_tokens(CachedLM(decoder), prompt.tolist(), params, None)  # warm-up
        start = time.perf_counter()
        runs = 3
        for _ in range(runs):
            out = generate_tokens(CachedLM(decoder), prompt.tolist(), params, None)
        ours_s = (time.perf_counter() - start) / runs
    assert all(len(seq.tokens) == NEW_TOKENS for seq in out)
    tokens = CANDIDATES * NEW_TOKENS
    return {"baseline_tps": tokens / baseline_s, "ours_tps": tokens / ours_s}


def bench_training(config: ModelConfig, model, batch: int, steps: int = 3) -> float:
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    seq = config.max_seq_len
    data = torch.randint(0, config.vocab_size, (batch, seq + 1))
    inputs, targets = data[:, :-1], data[:, 1:]

    def step():
        logits = model(inputs)
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
        )
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - start
    model.eval()
    return batch * seq * steps / elapsed


def lsh_vs_full(train_steps: int) -> dict:
    """Train a byte-level tiny model briefly on text; compare held-out losses."""
    root = Path(__file__).resolve().parents[1]
    sources = sorted((root / "generator").glob("*.py")) + sorted(
        (root / "webapp").rglob("*.py")
    )
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources).encode("utf-8")
    data = torch.tensor(list(text), dtype=torch.long)
    split = int(len(data) * 0.9)
    train, held = data[:split], data[split:]
    config = ModelConfig(vocab_size=256, max_seq_len=256, bucket_size=32, n_hashes=2)
    torch.manual_seed(0)
    model = build_model(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    seq, batch = config.max_seq_len, 8
    gen = torch.Generator().manual_seed(0)
    for _ in range(train_steps):
        starts = torch.randint(0, len(train) - seq - 1, (batch,), generator=gen)
        chunk = torch.stack([train[s : s + seq + 1] for s in starts.tolist()])
        logits = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 256), chunk[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    model.eval()
    windows = torch.stack(
        [held[s : s + seq + 1] for s in range(0, len(held) - seq - 1, seq)][:32]
    )
    inputs, targets = windows[:, :-1], windows[:, 1:]

    def loss_of(logits):
        return float(F.cross_entropy(logits.reshape(-1, 256), targets.reshape(-1)))

    with torch.inference_mode():
        torch.manual_seed(1)
        padded, mask = pad_to_bucket_multiple(inputs, config.bucket_size)
        lsh = loss_of(model(padded, input_mask=mask)[:, : inputs.shape[1]])
        with full_attention(model, rotary=True):
            full_rotary = loss_of(model(inputs))
        with full_attention(model, rotary=False):
            full_plain = loss_of(model(inputs))
        cached = IncrementalDecoder(model)(
            inputs, IncrementalDecoder(model).new_cache(), True
        )
        incremental = loss_of(cached)
    return {
        "steps": train_steps,
        "lsh": lsh,
        "full_rotary": full_rotary,
        "full_no_rotary": full_plain,
        "incremental": incremental,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "small"])
    parser.add_argument("--lsh-steps", type=int, default=120)
    # One thread by default: on a shared 2-core machine two OpenMP threads
    # collapse under contention (measured: 1000 tok/s at 1 thread, 50 at 2
    # with other jobs running). Both methods always use the same setting.
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak, small_mm = matmul_gflops()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; matmul "
        f"{peak:.1f} GFLOP/s (512^3), {small_mm:.1f} GFLOP/s (8x256 @ 256x1024)"
    )
    rows = []
    for name in args.presets:
        config = get_preset(name)
        torch.manual_seed(0)
        model = build_model(config).eval()
        n_params = sum(p.numel() for p in model.parameters())
        gen = bench_generation(config, model)
        context = PROMPT_TOKENS + NEW_TOKENS // 2
        fpt = flops_per_token(config, context)
        limit_tps = peak * 1e9 / fpt
        train_batch = 8 if name == "tiny" else 4
        train_tps = bench_training(config, model, train_batch)
        rows.append((name, n_params, gen, fpt, limit_tps, train_tps, peak_rss_mib()))
        del model
    header = (
        f"{'preset':<6} {'params':>9} {'baseline tok/s':>14} {'ours tok/s':>11} "
        f"{'ratio':>6} {'MFLOP/tok':>9} {'limit tok/s':>11} {'of limit':>8} "
        f"{'train tok/s':>11} {'peak RSS MiB':>12}"
    )
    print(header, flush=True)
    for name, n_params, gen, fpt, limit_tps, train_tps, rss in rows:
        ratio = gen["ours_tps"] / gen["baseline_tps"]
        print(
            f"{name:<6} {n_params / 1e6:>8.2f}M {gen['baseline_tps']:>14.1f} "
            f"{gen['ours_tps']:>11.1f} {ratio:>5.1f}x {fpt / 1e6:>9.2f} "
            f"{limit_tps:>11.0f} {gen['ours_tps'] / limit_tps:>7.1%} "
            f"{train_tps:>11.0f} {rss:>12.0f}"
        )
    print(
        "limit = peak matmul rate / FLOPs per token; peak RSS is the process "
        "maximum so far (ru_maxrss), so later rows include earlier ones."
    )
    if args.lsh_steps > 0:
        result = lsh_vs_full(args.lsh_steps)
        print(
            f"held-out loss after {result['steps']} steps (byte-level tiny model, "
            f"nats/token): LSH {result['lsh']:.4f}, exact full attention with "
            f"rotary {result['full_rotary']:.4f} (incremental decoder "
            f"{result['incremental']:.4f}), library full attention without rotary "
            f"{result['full_no_rotary']:.4f}; full - LSH = "
            f"{result['full_rotary'] - result['lsh']:+.4f}"
        )
    assert math.isfinite(peak)


if __name__ == "__main__":
    main()
