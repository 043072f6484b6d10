"""GET and PUT /api/v1/retention: how long a tenant's finished runs and events are
kept; every member reads it, admins set it."""

from typing import Any

from hatchet.models import Tenant
from tests.factories import member_client

DEFAULT = {"days": None, "default_days": 0, "effective_days": 0, "is_archived": False}


def test_every_member_reads_the_period_and_the_servers_default(
    tenant: Tenant, settings: Any
) -> None:
    viewer = member_client(tenant, "viewer")

    assert viewer.get("/api/v1/retention").json() == DEFAULT
    settings.HATCHET_RETENTION_DAYS = 90
    settings.HATCHET_RETENTION_ARCHIVE_DIR = "/var/lib/hatchet/archive"
    assert viewer.get("/api/v1/retention").json() == {
        "days": None,
        "default_days": 90,
        "effective_days": 90,
        "is_archived": True,
    }


def test_an_admin_sets_the_tenants_own_period_and_goes_back_to_the_default(
    tenant: Tenant, other_tenant: Tenant, settings: Any
) -> None:
    settings.HATCHET_RETENTION_DAYS = 90
    admin = member_client(tenant, "admin")

    set_to_30 = admin.put("/api/v1/retention", {"days": 30}, format="json")
    assert set_to_30.status_code == 200
    assert set_to_30.json() == {
        "days": 30,
        "default_days": 90,
        "effective_days": 30,
        "is_archived": False,
    }
    tenant.refresh_from_db()
    other_tenant.refresh_from_db()
    assert (tenant.retention_days, other_tenant.retention_days) == (30, None)

    forever = admin.put("/api/v1/retention", {"days": 0}, format="json").json()
    assert (forever["days"], forever["effective_days"]) == (0, 0)
    default = admin.put("/api/v1/retention", {"days": None}, format="json").json()
    assert (default["days"], default["effective_days"]) == (None, 90)
    tenant.refresh_from_db()
    assert tenant.retention_days is None


def test_only_admins_set_it(tenant: Tenant) -> None:
    editor = member_client(tenant, "editor")

    refused = editor.put("/api/v1/retention", {"days": 1}, format="json")

    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "This needs the admin role."
    tenant.refresh_from_db()
    assert tenant.retention_days is None


def test_a_bad_period_is_refused_precisely(tenant: Tenant) -> None:
    admin = member_client(tenant, "admin")

    def refusal(body: Any) -> tuple[int, str]:
        answer = admin.put("/api/v1/retention", body, format="json")
        return answer.status_code, answer.json()["error"]["message"]

    assert refusal({"days": -1}) == (400, "days: Ensure this value is greater than or equal to 0.")
    assert refusal({"days": 36501}) == (
        400,
        "days: Ensure this value is less than or equal to 36500.",
    )
    assert refusal({"days": "soon"}) == (400, "days: A valid integer is required.")
    assert refusal({}) == (400, "days: This field is required.")
    assert refusal({"days": 7, "weeks": 1}) == (400, "Unknown field(s): weeks.")
    assert refusal([7]) == (400, "Invalid data. Expected a dictionary, but got list.")
    tenant.refresh_from_db()
    assert tenant.retention_days is None
