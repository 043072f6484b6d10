"""The `--tenant` and `--create-tenant` options that management commands share."""

from django.core.management.base import CommandError, CommandParser

from hatchet.models import Tenant


def add_tenant_arguments(parser: CommandParser) -> None:
    parser.add_argument("--tenant", required=True, help="tenant slug")
    parser.add_argument(
        "--create-tenant", action="store_true", help="create the tenant if it is missing"
    )


def tenant_from_options(options: dict) -> Tenant:
    slug = options["tenant"]
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        if not options["create_tenant"]:
            raise CommandError(f"Tenant '{slug}' does not exist (add --create-tenant).")
        tenant = Tenant.objects.create(slug=slug, name=slug)
    return tenant
