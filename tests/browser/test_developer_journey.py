"""The developer's journey: trigger a run from the dashboard, find why it failed
(the step's traceback), retry it, and watch it succeed live."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import screenshot, sign_in
from tests.e2e.live import LiveServer, wait_for

pytestmark = pytest.mark.browser

ERROR = "warehouse refused the connection: too many clients"


@pytest.mark.usefixtures("worker")
def test_a_developer_triggers_a_failing_run_reads_the_traceback_and_retries_it(page: Page) -> None:
    sign_in(page, "dev")
    page.get_by_role("link", name="Workflows").first.click()
    page.get_by_role("link", name="NightlyImport", exact=True).click()
    expect(page.get_by_role("button", name=re.compile(r"^load"))).to_be_visible()

    page.get_by_label("Run input").fill('{"day": "2026-11-23"}')
    page.get_by_role("button", name="Trigger run").click()

    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("NightlyImport")
    expect(heading).to_contain_text("Failed", timeout=30_000)

    page.get_by_role("button", name=re.compile(r"^load")).click()
    expect(page.get_by_role("heading", name="Step load")).to_be_visible()
    traceback = page.get_by_label("Traceback of attempt 1")
    expect(traceback).to_contain_text("Traceback (most recent call last)")
    expect(traceback).to_contain_text(f"ConnectionError: {ERROR}")
    screenshot(page, "run-failed", full_page=True)

    # The page must follow the retried run over its socket, without a reload.
    page.evaluate("window.__beforeRetry = true")
    page.get_by_role("button", name="Retry").click()
    expect(heading).to_contain_text("Succeeded", timeout=30_000)
    assert page.evaluate("window.__beforeRetry === true"), "the page reloaded"
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^load"))).to_contain_text("Succeeded")
    expect(page.get_by_label("Logs of load")).to_contain_text("loaded 3 rows")
    # The status arrives first; the refetched detail brings the output and timings.
    expect(page.get_by_role("group", name="Output of load")).to_contain_text("loaded")
    attempts = page.get_by_role("list", name="Attempts of load").get_by_role("listitem")
    expect(attempts.first).to_contain_text("Attempt 2")
    expect(attempts.first).to_contain_text("Succeeded")
    timeline = page.get_by_role("list", name="Step timeline")
    expect(timeline.get_by_role("listitem")).to_have_count(2)
    expect(timeline).not_to_contain_text("Not started")
    # The first attempt's failure stays on record beside the successful second.
    expect(page.get_by_text("Attempt 2", exact=True)).to_be_visible()
    expect(page.get_by_label("Traceback of attempt 1")).to_be_attached()
    page.get_by_role("heading", level=1).scroll_into_view_if_needed()
    screenshot(page, "run-page", full_page=True)


@pytest.mark.usefixtures("worker")
def test_the_runs_list_filters_by_status_in_the_address_and_a_viewer_cannot_act(
    page: Page, hatchet_server: LiveServer
) -> None:
    with hatchet_server.api() as api:
        response = api.post("/workflows/NightlyImport/runs", json={"input": {"day": "viewer"}})
        response.raise_for_status()
        run_id = response.json()["id"]
        wait_for(lambda: api.get(f"/runs/{run_id}").json()["status"] == "FAILED", timeout=20)

    sign_in(page, "vic")
    page.goto("/runs")
    page.get_by_role("checkbox", name="Failed").check()
    expect(page).to_have_url(re.compile(r"/runs\?status=FAILED$"))
    link = page.get_by_role("link", name=f"Run {run_id} of NightlyImport")
    expect(link).to_be_visible()
    screenshot(page, "runs-list")
    page.get_by_role("checkbox", name="Succeeded").check()
    page.get_by_role("checkbox", name="Failed").uncheck()
    expect(page).to_have_url(re.compile(r"/runs\?status=SUCCEEDED$"))
    expect(link).to_have_count(0)

    # The address alone restores the filter; the row's link works from the keyboard.
    page.goto("/runs?status=FAILED")
    expect(page.get_by_role("checkbox", name="Failed")).to_be_checked()
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/runs/{run_id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Failed")
    expect(page.get_by_label("Traceback of attempt 1")).to_contain_text("ConnectionError")
    for name in ("Cancel", "Retry", "Replay"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)

    page.get_by_role("link", name="NightlyImport", exact=True).click()
    expect(page.get_by_role("heading", name="Recent runs")).to_be_visible()
    expect(page.get_by_role("link", name=f"Run {run_id}", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Trigger run")).to_have_count(0)
    screenshot(page, "workflow-page", full_page=True)


@pytest.mark.usefixtures("worker")
def test_a_developer_puts_a_rate_limit_and_sees_its_use_and_who_waits_for_it(
    page: Page, hatchet_server: LiveServer
) -> None:
    sign_in(page, "dev")
    page.get_by_role("link", name="Rate limits").first.click()
    page.get_by_label("Key", exact=True).fill("llm-calls")
    page.get_by_label("Limit", exact=True).fill("1")
    page.get_by_role("combobox", name=re.compile("^Period")).select_option("hour")
    page.get_by_role("button", name="Save limit").click()
    expect(page.get_by_role("status")).to_contain_text("Created llm-calls")

    client = hatchet_server.client()
    first = client.admin.run_workflow("Summarize", {"text": "first"})
    assert first.result(timeout=30)["call"]["summary"] == "first"
    held = client.admin.run_workflow("Summarize", {"text": "second"})

    row = page.get_by_role("row", name=re.compile("llm-calls"))
    expect(row).to_contain_text("1 of 1", timeout=15_000)
    screenshot(page, "rate-limits", full_page=True)
    page.goto(f"{hatchet_server.url}/runs/{held.workflow_run_id}")
    expect(page.get_by_role("list", name="Why it waits")).to_contain_text(
        "Step call is queued: Rate limit 'llm-calls' is full: 1 of 1 units taken in the last hour"
    )


@pytest.mark.usefixtures("worker")
def test_a_developer_follows_a_durable_run_sends_the_event_it_waits_for_and_skips_its_sleep(
    page: Page, hatchet_server: LiveServer
) -> None:
    client = hatchet_server.client()
    run = client.admin.run_workflow("Digest", {"id": 7, "texts": [f"text {n}" for n in range(6)]})
    sign_in(page, "dev")
    page.goto(f"{hatchet_server.url}/runs/{run.workflow_run_id}")

    # Six children: one node in the graph, and a list that links to each.
    expect(page.get_by_role("button", name=re.compile(r"6 child runs"))).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_role("heading", name="Child runs (6)")).to_be_visible()
    waits = page.get_by_role("list", name="Waits of collect")
    expect(waits).to_contain_text("event digest:approved where digest = 7", timeout=30_000)
    expect(waits).to_contain_text("6 child runs")
    expect(page.get_by_label("Payload of the digest:approved event")).to_have_value(
        re.compile(r'"digest": 7')
    )
    page.get_by_label("Payload of the digest:approved event").fill('{"digest": 7, "by": "dev"}')
    page.get_by_role("button", name="Send event digest:approved").click()

    expect(waits).to_contain_text("sleep for 3600s", timeout=30_000)
    screenshot(page, "durable-run", full_page=True)
    page.get_by_role("button", name="Skip the sleep").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Succeeded", timeout=30_000)
    expect(waits).to_contain_text("skipped")
    expect(page.get_by_role("group", name="Output of collect")).to_contain_text("dev")

    page.get_by_role("button", name=re.compile(r"6 child runs")).click()
    expect(page).to_have_url(re.compile(r"/runs\?parent_run="))
    expect(page.get_by_text("The child runs of run")).to_be_visible()
