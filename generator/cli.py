"""Command line: ``python -m generator train|finetune|generate|evaluate|import-corpus``.

A person's mistake (missing checkpoint, corrupt weights, a bad parameter, a
malformed corpus row) ends the program with exit status 2 and one line on
stderr saying what is wrong; tracebacks are for bugs only. Ctrl-C during
training keeps the last checkpoint and exits with status 130.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

PACKAGE = Path(__file__).resolve().parent
DEMO_MODEL = PACKAGE / "demo_model"
DEMO_TRAIN = PACKAGE / "data" / "demo_train.jsonl"
DEMO_HELDOUT = PACKAGE / "data" / "demo_heldout.jsonl"


class UserError(Exception):
    """Reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _list(values: list[str] | None) -> list[str]:
    """Repeated options, each possibly comma-separated."""
    out = []
    for value in values or []:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return out


def _add_training_args(p: argparse.ArgumentParser, scratch: bool) -> None:
    p.add_argument(
        "--data",
        nargs="+",
        type=Path,
        default=[DEMO_TRAIN],
        help="training corpus .jsonl/.csv (default: the shipped demo corpus)",
    )
    p.add_argument(
        "--heldout",
        nargs="+",
        type=Path,
        default=None,
        help="held-out corpus (default: the demo held-out split when "
        "training on the demo corpus, else 5%% of --data)",
    )
    p.add_argument("--out", type=Path, required=True, help="checkpoint folder to write")
    if scratch:
        p.add_argument(
            "--preset", default="tiny", help="model preset (tiny, small, base)"
        )
    p.add_argument("--max-steps", type=_positive_int)
    p.add_argument("--batch-size", type=_positive_int)
    p.add_argument("--lr", type=float, dest="learning_rate")
    p.add_argument("--warmup-steps", type=int)
    p.add_argument("--grad-accum-steps", type=_positive_int)
    p.add_argument("--eval-every", type=_positive_int)
    p.add_argument("--checkpoint-every", type=_positive_int)
    p.add_argument("--patience", type=_positive_int, dest="early_stopping_patience")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default=None, help="auto, cpu or cuda")
    p.add_argument("--threads", type=_positive_int, help="torch CPU threads")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from OUT/resume if a run was interrupted",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m generator", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("train", help="train a new model and tokenizer")
    _add_training_args(p, scratch=True)

    p = sub.add_parser("finetune", help="continue training a checkpoint on new copy")
    p.add_argument("--checkpoint", type=Path, default=DEMO_MODEL)
    _add_training_args(p, scratch=False)

    p = sub.add_parser("generate", help="write candidates for a spec")
    p.add_argument("--checkpoint", type=Path, default=DEMO_MODEL)
    p.add_argument(
        "--spec", help="the spec as a JSON object (fields below override it)"
    )
    p.add_argument("--content-type")
    p.add_argument("--language")
    p.add_argument("--channel")
    p.add_argument(
        "--tone", action="append", help="tone word(s); repeat or comma-separate"
    )
    p.add_argument("--persona", help="persona attributes as a JSON object")
    p.add_argument("--brand")
    p.add_argument("--product")
    p.add_argument("--fact", action="append", help="a product fact; repeat for more")
    p.add_argument(
        "--keyword", action="append", help="keyword(s); repeat or comma-separate"
    )
    p.add_argument("--max-new-tokens", type=int)
    p.add_argument("--min-new-tokens", type=int)
    p.add_argument("--greedy", action="store_true", help="do_sample=False")
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-k", type=int)
    p.add_argument("--top-p", type=float)
    p.add_argument("--num-beams", type=int)
    p.add_argument("--length-penalty", type=float)
    p.add_argument("--early-stopping", action="store_true")
    p.add_argument("-n", "--num-return-sequences", type=int)
    p.add_argument("--repetition-penalty", type=float)
    p.add_argument("--no-repeat-ngram-size", type=int)
    p.add_argument("--bad-word", action="append", help="banned word(s)")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default=None)
    p.add_argument("--json", action="store_true", help="print candidates as JSON")

    p = sub.add_parser("evaluate", help="write a JSON evaluation report")
    p.add_argument("--checkpoint", type=Path, default=DEMO_MODEL)
    p.add_argument("--heldout", type=Path, default=DEMO_HELDOUT)
    p.add_argument("--out", type=Path, required=True, help="report .json to write")
    p.add_argument(
        "--per-group",
        type=_positive_int,
        default=3,
        help="held-out prompts per content type and language",
    )
    p.add_argument("-n", "--num-return-sequences", type=_positive_int, default=4)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--device", default=None)

    p = sub.add_parser("import-corpus", help="validate a CSV/JSONL corpus, write JSONL")
    p.add_argument("source", type=Path, help="the user's .csv or .jsonl")
    p.add_argument("destination", type=Path, help="validated .jsonl to write")
    return parser


def _train_config(args: argparse.Namespace, finetuning: bool) -> Any:
    from generator.config import TrainConfig

    base = (
        TrainConfig(
            learning_rate=3e-4,
            warmup_steps=20,
            max_steps=300,
            eval_every=50,
            checkpoint_every=100,
        )
        if finetuning
        else TrainConfig()
    )
    overrides = {
        name: getattr(args, name)
        for name in (
            "max_steps",
            "batch_size",
            "learning_rate",
            "warmup_steps",
            "grad_accum_steps",
            "eval_every",
            "checkpoint_every",
            "early_stopping_patience",
            "seed",
        )
        if getattr(args, name) is not None
    }
    for name in ("learning_rate",):
        if name in overrides and not overrides[name] > 0:
            raise UserError(f"--lr must be positive, got {overrides[name]}")
    if overrides.get("warmup_steps", 0) < 0:
        raise UserError(f"--warmup-steps must be >= 0, got {overrides['warmup_steps']}")
    import dataclasses

    return dataclasses.replace(base, **overrides)


def _heldout(args: argparse.Namespace) -> Any:
    if args.heldout is not None:
        return args.heldout
    if [p.resolve() for p in args.data] == [DEMO_TRAIN]:
        return [DEMO_HELDOUT]
    return None


def cmd_train(args: argparse.Namespace, finetuning: bool = False) -> int:
    import torch

    from generator.config import get_preset
    from generator.train import finetune, train

    if args.threads:
        torch.set_num_threads(args.threads)
    common = dict(
        heldout_data=_heldout(args),
        train_config=_train_config(args, finetuning),
        device=args.device,
        resume=args.resume,
        progress_bar=not args.no_progress,
    )
    try:
        if finetuning:
            result = finetune(args.checkpoint, args.data, args.out, **common)
        else:
            get_preset(args.preset)
            result = train(args.data, args.out, preset=args.preset, **common)
    except KeyboardInterrupt:
        print(f"interrupted; last checkpoint kept in {args.out}", file=sys.stderr)
        return 130
    m = result.metrics
    print(
        f"saved {result.checkpoint_dir}: {m['steps']} steps ({m['stop_reason']}), "
        f"held-out loss {m['heldout_loss']}, perplexity {m['heldout_perplexity']}"
    )
    return 0


def _spec_from_args(args: argparse.Namespace) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if args.spec:
        try:
            spec = json.loads(args.spec)
        except json.JSONDecodeError as exc:
            raise UserError(f"--spec is not valid JSON: {exc.msg}") from exc
        if not isinstance(spec, dict):
            raise UserError("--spec must be a JSON object")
    for name in ("content_type", "language", "channel", "brand", "product"):
        if getattr(args, name) is not None:
            spec[name] = getattr(args, name)
    if args.tone:
        spec["tone"] = _list(args.tone)
    if args.fact:
        spec["facts"] = list(args.fact)
    if args.keyword:
        spec["keywords"] = _list(args.keyword)
    if args.persona:
        try:
            spec["persona"] = json.loads(args.persona)
        except json.JSONDecodeError as exc:
            raise UserError(f"--persona is not valid JSON: {exc.msg}") from exc
    if "content_type" not in spec:
        raise UserError("--content-type is required (or give it in --spec)")
    return spec


def cmd_generate(args: argparse.Namespace) -> int:
    from generator.api import load_model
    from generator.evaluate import MAX_NEW_TOKENS
    from generator.params import GenerationParams
    from generator.prompt import GenerationSpec

    spec = GenerationSpec.from_dict(_spec_from_args(args))
    kwargs: dict[str, Any] = {
        name: getattr(args, name)
        for name in (
            "max_new_tokens",
            "min_new_tokens",
            "temperature",
            "top_k",
            "top_p",
            "num_beams",
            "length_penalty",
            "num_return_sequences",
            "repetition_penalty",
            "no_repeat_ngram_size",
            "seed",
        )
        if getattr(args, name) is not None
    }
    if args.greedy:
        kwargs["do_sample"] = False
    if args.early_stopping:
        kwargs["early_stopping"] = True
    if args.bad_word:
        kwargs["bad_words"] = _list(args.bad_word)
    GenerationParams.from_kwargs(**kwargs)  # validate before loading the model
    writer = load_model(args.checkpoint, device=args.device)
    if "max_new_tokens" not in kwargs:
        # Room for the longest copy of this type, as in evaluation.
        kwargs["max_new_tokens"] = min(
            MAX_NEW_TOKENS[spec.content_type], writer.max_seq_len - 48
        )
    candidates = writer.generate(spec, **kwargs)
    if args.json:
        print(
            json.dumps([c.to_dict() for c in candidates], ensure_ascii=False, indent=2)
        )
    else:
        for cand in candidates:
            print(
                f"[{cand.index}] ({cand.token_count} tokens, "
                f"mean logprob {cand.mean_logprob:.2f})\n{cand.text}\n"
            )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from generator.evaluate import evaluate

    report = evaluate(
        args.checkpoint,
        args.heldout,
        args.out,
        per_group=args.per_group,
        num_return_sequences=args.num_return_sequences,
        seed=args.seed,
        device=args.device,
    )
    gen = report["generation"]
    print(
        f"wrote {args.out}: perplexity {report['heldout']['perplexity']}, "
        f"distinct-2 {gen['distinct_2']}, banned-word rate {gen['banned_word_rate']}, "
        f"{gen['tokens_per_s']} tokens/s"
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from generator.data import import_corpus

    if args.source.resolve() == args.destination.resolve():
        raise UserError("destination must differ from source")
    count = import_corpus(args.source, args.destination)
    print(f"wrote {count} validated rows to {args.destination}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from generator.checkpoint import CheckpointError
    from generator.data import CorpusError

    commands = {
        "train": cmd_train,
        "finetune": lambda a: cmd_train(a, finetuning=True),
        "generate": cmd_generate,
        "evaluate": cmd_evaluate,
        "import-corpus": cmd_import,
    }
    debug = bool(os.environ.get("COPYDESK_DEBUG"))
    try:
        return commands[args.command](args)
    except (UserError, CheckpointError, CorpusError, ValueError) as exc:
        if debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:
        if debug:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
