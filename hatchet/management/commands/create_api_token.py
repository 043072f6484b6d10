"""Print a new API token for a tenant, alone on stdout."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hatchet.management.tenants import add_tenant_arguments, tenant_from_options
from hatchet.models import APIToken, TokenRole


class Command(BaseCommand):
    help = "Create an API token for a tenant and print it (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_tenant_arguments(parser)
        parser.add_argument("--name", default="cli", help="a label for the token")
        parser.add_argument(
            "--role",
            choices=TokenRole.values,
            default=TokenRole.VIEWER,
            help="viewer (the default), editor or admin act as a member with that role; "
            "worker may only run workers and register workflows",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        _, secret = APIToken.issue(tenant_from_options(options), options["name"], options["role"])
        self.stdout.write(secret)
