"""Give a user a role in a tenant, creating the user (and the tenant) if asked."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hatchet.errors import ServiceError
from hatchet.management.tenants import add_tenant_arguments, tenant_from_options
from hatchet.members import add_member
from hatchet.models import Role


class Command(BaseCommand):
    help = "Add a user to a tenant with a role (creates the user when --password is given)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_tenant_arguments(parser)
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", choices=Role.values, default=Role.VIEWER)
        parser.add_argument("--password", help="creates the user if it does not exist")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_from_options(options)
        try:
            membership = add_member(
                tenant,
                options["username"],
                options["role"],
                password=options["password"],
                email=options["email"],
            )
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{membership.user} is {membership.role} in {tenant.slug}")
