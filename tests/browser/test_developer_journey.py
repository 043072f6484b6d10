"""The developer's journey: trigger a run from the dashboard, find why it failed
(the step's traceback), retry it, and watch it succeed live."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser

ERROR = "warehouse refused the connection: too many clients"


def test_a_developer_triggers_a_failing_run_reads_the_traceback_and_retries_it(
    page: Page, worker: object
) -> None:
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
    timeline = page.get_by_role("list", name="Step timeline")
    expect(timeline.get_by_role("listitem")).to_have_count(2)
    expect(timeline).not_to_contain_text("Not started")
    # The first attempt's failure stays on record beside the successful second.
    expect(page.get_by_text("Attempt 2", exact=True)).to_be_visible()
    expect(page.get_by_label("Traceback of attempt 1")).to_be_attached()
    page.get_by_role("heading", level=1).scroll_into_view_if_needed()
    screenshot(page, "run-page", full_page=True)
