"""The migration that gives tokens a role keeps the tokens issued before it working
as they did: as admins."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("hatchet", "0001_initial")]
AFTER = [("hatchet", "0002_api_token_role")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("transactional_db")
def test_tokens_issued_before_roles_stay_admins() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    tenant = old.get_model("hatchet", "Tenant").objects.create(slug="acme", name="Acme")
    old.get_model("hatchet", "APIToken").objects.create(
        tenant=tenant, name="old", prefix="hct_x", token_hash="h" * 64
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    tokens = new.get_model("hatchet", "APIToken").objects
    fresh = tokens.create(tenant_id=tenant.pk, name="new", prefix="hct_y", token_hash="n" * 64)

    assert tokens.get(name="old").role == "admin"
    assert fresh.role == "viewer"
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
