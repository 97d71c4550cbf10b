"""Benchmark: does one fine-tuning run on an editor's ratings change the model?

A simulated editor rates 5 stars the candidates of the parent version that
have a trait (default: an email subject ending with a question) and 1 star
the others; one training job fine-tunes on those ratings; the child gets the
same generation jobs (same prompts and seeds). Prints the trait rates of both,
the fine-tuning time and the held-out losses, for the tiny demo model on this
machine. Everything goes through the real services (generation runner,
review services, training runner) on a throwaway SQLite database.

    .venv/bin/python benchmarks/feedback_loop.py [--trait question]
        [--content-type email_subject] [--jobs 4] [--per-job 24] [--steps 30]
        [--preference] [--parent generator/demo_model]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parent", default=str(ROOT / "generator" / "demo_model"))
    parser.add_argument(
        "--trait", default="question", choices=["question", "free_shipping"]
    )
    parser.add_argument("--content-type", default="email_subject")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--per-job", type=int, default=24)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--preference", action="store_true", help="add the DPO stage")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="copydesk-loop-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="webapp.settings",
        DEBUG="1",
        VAR_DIR=str(work),
        MODEL_DIR=str(work / "models"),
        DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("CELERY_BROKER_DIR", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.contrib.auth import get_user_model

    from webapp.accounts.models import Role
    from webapp.accounts.services import do_add_member, do_create_organization
    from webapp.campaigns.services import do_create_campaign
    from webapp.models_registry.services import do_register_model_version
    from webapp.training.simulation import run_feedback_loop

    users = get_user_model().objects
    admin = users.create_user("bench-admin", password="x" * 12)
    editor = users.create_user("bench-editor", password="x" * 12)
    org = do_create_organization("Bench", owner=admin)
    do_add_member(org, editor, Role.EDITOR)
    campaigns = [
        do_create_campaign(org, admin, name=name, product_name=product)
        for name, product in (("Blenders", "Acme Blender"), ("Shoes", "Trail Runner X"))
    ]
    parent, _ = do_register_model_version(
        args.parent, name="parent", global_default=True
    )
    options = {"max_steps": args.steps}
    if args.preference:
        options.update(preference=True, preference_steps=max(10, args.steps // 2))
    started = time.perf_counter()
    result = run_feedback_loop(
        campaigns=campaigns,
        admin=admin,
        editor=editor,
        parent=parent,
        trait=args.trait,
        content_type=args.content_type,
        jobs=args.jobs,
        per_job=args.per_job,
        seed=args.seed,
        training_options=options,
    )
    total = time.perf_counter() - started
    import torch

    print(
        f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"parent: {args.parent}")
    print(result.summary())
    n = args.jobs * args.per_job
    print(f"trait rate before: {result.rate_before:.3f} ({n} candidates)")
    print(f"trait rate after:  {result.rate_after:.3f} ({n} candidates)")
    print(f"difference:        {result.rate_after - result.rate_before:+.3f}")
    print(
        f"fine-tuning job:   {result.training_seconds:.1f} s wall "
        f"({result.job_metrics.get('steps')} steps, "
        f"{result.job_metrics.get('stop_reason')}; training alone "
        f"{result.job_metrics.get('training_seconds')} s)"
    )
    print(
        f"generation:        {result.generation_seconds_before:.1f} s parent "
        f"(first load included), {result.generation_seconds_after:.1f} s child"
    )
    for key in (
        "parent_feedback_heldout_loss",
        "feedback_heldout_loss",
        "parent_base_heldout_loss",
        "base_heldout_loss",
        "preference_dpo_loss",
        "preference_reward_accuracy",
    ):
        if key in result.job_metrics:
            print(f"{key:30s} {result.job_metrics[key]}")
    print(f"total:             {total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
