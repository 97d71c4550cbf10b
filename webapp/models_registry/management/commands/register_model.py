"""manage.py register_model PATH: validate a checkpoint and register it."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from webapp.models_registry.services import do_register_model_version


class Command(BaseCommand):
    help = (
        "Validate a checkpoint directory (config, tokenizer, safetensors), copy it "
        "under MODEL_DIR and register it as a model version. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="checkpoint directory")
        parser.add_argument("--name", help="version name (default: folder name)")
        parser.add_argument(
            "--global-default",
            action="store_true",
            help="make it the version every organization uses unless it picks one",
        )
        parser.add_argument(
            "--no-copy",
            action="store_true",
            help="reference the folder where it is instead of copying it",
        )

    def handle(self, *args, **options):
        try:
            version, created = do_register_model_version(
                options["path"],
                name=options["name"],
                global_default=options["global_default"],
                copy=not options["no_copy"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        verb = "registered" if created else "already registered as"
        default = " (global default)" if options["global_default"] else ""
        self.stdout.write(
            f"{verb} {version.name} [{version.preset or '?'}] at "
            f"{version.checkpoint_dir}{default}"
        )
