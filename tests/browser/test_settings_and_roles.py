"""Roles in the dashboard: a viewer sees every page without a single edit control; an
admin issues an API token (shown once, working, then revoked) and manages members."""

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import PASSWORD, screenshot, sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser

# What a viewer must never be offered, on any page.
EDIT_BUTTONS = [
    "Trigger run",
    "Cancel",
    "Retry",
    "Replay",
    "Create cron",
    "Create schedule",
    "Pause",
    "Resume",
    "Delete",
    "New token",
    "Revoke",
    "Save connection",
    "Create user",
    "Invite",
    "Remove",
]


@pytest.fixture(scope="session")
def admin(hatchet_server: LiveServer) -> str:
    """An admin member (the fixtures' people are editors and a viewer); made once."""
    hatchet_server.manage(
        "add_member",
        *("--tenant", "e2e", "--username", "ada", "--password", PASSWORD),
        *("--role", "admin"),
    )
    return "ada"


@pytest.fixture
def something_to_see(
    hatchet_server: LiveServer,
    worker: object,  # noqa: ARG001 (a worker must run the workflow)
) -> dict[str, str]:
    """A NightlyImport run and an event, so the viewer's pages have rows in them."""
    with hatchet_server.api() as api:
        run = api.post("/workflows/NightlyImport/runs", json={"input": {}})
        run.raise_for_status()
        event = api.post("/events", json={"key": "invoice:paid", "payload": {"invoice": 42}})
        event.raise_for_status()
    return {"run": run.json()["id"], "event": event.json()["id"]}


def settle(page: Page, path: str, heading: str) -> None:
    """Opens `path` and waits until its heading is shown and nothing is still loading."""
    page.goto(path)
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)


def expect_no_edit_buttons(page: Page) -> None:
    for name in EDIT_BUTTONS:
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)


def test_a_viewer_sees_every_page_but_no_edit_buttons(
    page: Page, something_to_see: dict[str, str]
) -> None:
    sign_in(page, "vic")
    run_id, event_id = something_to_see["run"], something_to_see["event"]

    settle(page, "/runs", "Runs")
    expect_no_edit_buttons(page)
    page.goto(f"/runs/{run_id}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
    expect_no_edit_buttons(page)
    settle(page, "/workflows", "Workflows")
    expect_no_edit_buttons(page)

    settle(page, "/events", "Events")
    # Other tests may push the same key: this test's event is the one with its id.
    event_link = page.locator(f"a[href='/events/{event_id}']")
    expect(event_link).to_have_text("invoice:paid")
    expect_no_edit_buttons(page)
    event_link.click()
    expect(page.get_by_role("group", name="Payload")).to_contain_text("invoice: 42")
    expect(page).to_have_url(re.compile(f"/events/{event_id}$"))
    expect_no_edit_buttons(page)
    # No workflow listens for invoice:paid, so the runs list filtered by it is empty.
    page.get_by_role("link", name="All runs of this event").click()
    expect(page).to_have_url(re.compile(f"/runs\\?event={event_id}$"))
    expect(page.get_by_label("Event")).to_have_value(event_id)
    expect(page.get_by_text("No run matches these filters.")).to_be_visible()

    settle(page, "/triggers", "Crons & schedules")
    expect(page.get_by_role("heading", name="Crons", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="New cron")).to_have_count(0)
    expect_no_edit_buttons(page)

    settle(page, "/workers", "Workers")
    expect(page.get_by_text("browser-worker")).to_be_visible()
    expect_no_edit_buttons(page)

    settle(page, "/settings", "Settings")
    expect(page.get_by_role("cell", name="vic", exact=True)).to_be_visible()
    expect(page.get_by_text("Only admins can see and change this.")).to_have_count(2)
    expect(page.get_by_role("combobox")).to_have_count(0)
    expect_no_edit_buttons(page)
    screenshot(page, "viewer", full_page=True)


def test_an_admin_creates_a_token_sees_it_once_uses_it_and_revokes_it(
    page: Page, hatchet_server: LiveServer, admin: str
) -> None:
    sign_in(page, admin)
    settle(page, "/settings", "Settings")

    page.get_by_role("button", name="New token").click()
    page.get_by_label("Token name").fill("browser-ci")
    page.get_by_label("Token role").select_option("worker")
    page.get_by_role("button", name="Create token").click()
    notice = page.get_by_role("status", name="New token")
    expect(notice).to_contain_text("you will not see it again")
    secret = page.get_by_test_id("issued-token").inner_text().strip()
    assert len(secret) > 20

    def status_with(token: str) -> int:
        response = httpx.get(
            f"{hatchet_server.url}/api/v1/workflows",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        return response.status_code

    # A worker token registers workflows and runs workers; it reads nothing.
    assert status_with(secret) == 403

    notice.get_by_role("button", name="Done").click()
    expect(page.get_by_text(secret)).to_have_count(0)
    row = page.get_by_role("row").filter(has_text="browser-ci")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("worker")
    expect(row).not_to_contain_text(secret)

    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Click again to confirm").click()
    expect(page.get_by_role("row").filter(has_text="browser-ci")).to_have_count(0)
    assert status_with(secret) == 401


def test_an_admin_creates_a_member_and_changes_their_role(
    page: Page, hatchet_server: LiveServer, admin: str
) -> None:
    sign_in(page, admin)
    settle(page, "/settings", "Settings")

    page.get_by_label("Username", exact=True).fill("mia")
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create user").click()
    role = page.get_by_role("combobox", name="Role of mia")
    expect(role).to_have_value("editor")

    role.select_option("viewer")
    expect(role).to_have_value("viewer")
    expect(role).to_be_enabled()
    page.reload()
    expect(page.get_by_role("combobox", name="Role of mia")).to_have_value("viewer")
    with hatchet_server.api() as api:
        members = api.get("/members").json()["results"]
    assert {m["user"]["username"]: m["role"] for m in members}["mia"] == "viewer"

    # The only admin cannot demote themselves: the server's reason is shown.
    page.get_by_role("combobox", name=f"Role of {admin}").select_option("editor")
    expect(page.get_by_text("A tenant needs at least one admin.")).to_be_visible()
    expect(page.get_by_role("combobox", name=f"Role of {admin}")).to_have_value("admin")


def test_a_person_of_another_tenant_joins_only_by_accepting_an_invitation(
    page: Page, hatchet_server: LiveServer, admin: str
) -> None:
    hatchet_server.manage(
        "add_member",
        *("--tenant", "elsewhere", "--create-tenant", "--username", "bea"),
        *("--password", PASSWORD, "--role", "admin"),
    )
    sign_in(page, admin)
    settle(page, "/settings", "Settings")

    page.get_by_label("Username or email").fill("bea")
    page.get_by_label("Invited role").select_option("editor")
    page.get_by_role("button", name="Invite", exact=True).click()
    pending = page.get_by_role("table", name="Pending invitations")
    expect(pending.get_by_role("cell", name="bea", exact=True)).to_be_visible()
    with hatchet_server.api() as api:
        assert "bea" not in [m["user"]["username"] for m in api.get("/members").json()["results"]]
    page.get_by_role("button", name="Sign out").click()
    # Signed out once the form shows: a navigation before that could cancel the request.
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    sign_in(page, "bea")
    invitations = page.get_by_role("region", name="Invitations for you")
    expect(invitations).to_contain_text("e2e")
    invitations.get_by_role("button", name=re.compile("^Accept the invitation")).click()
    expect(page.get_by_role("region", name="Invitations for you")).to_have_count(0)
    expect(page.get_by_role("combobox", name="Tenant")).to_be_visible()
    with hatchet_server.api() as api:
        members = api.get("/members").json()["results"]
    assert {m["user"]["username"]: m["role"] for m in members}["bea"] == "editor"
