"""Print a new API token for a tenant, alone on stdout."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hatchet.models import APIToken, Tenant


class Command(BaseCommand):
    help = "Create an API token for a tenant and print it (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--name", default="cli", help="a label for the token")
        parser.add_argument(
            "--create-tenant", action="store_true", help="create the tenant if it is missing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["tenant"]
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            if not options["create_tenant"]:
                raise CommandError(f"Tenant '{slug}' does not exist (add --create-tenant).")
            tenant = Tenant.objects.create(slug=slug, name=slug)
        _, secret = APIToken.issue(tenant, options["name"])
        self.stdout.write(secret)
