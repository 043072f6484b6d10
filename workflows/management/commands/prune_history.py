"""Delete (or archive, then delete) the finished runs and the events older than each
tenant's retention period, now, until none is left; the engine does it periodically."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hatchet.models import Tenant
from workflows.engine.retention import prune_history


class Command(BaseCommand):
    help = "Delete the history older than each tenant's retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="the tenant's slug (default: every tenant)")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = None
        if options["tenant"]:
            tenant = Tenant.objects.filter(slug=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"There is no tenant '{options['tenant']}'.")
        pruned = prune_history(tenant=tenant, dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{verb} {pruned.runs} runs and {pruned.events} events")
        for path in pruned.files:
            self.stdout.write(f"archived {path}")
