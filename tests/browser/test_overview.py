"""The operator's glance: after runs, the Overview page draws their rate, failures,
queue depth and latency, each chart named with its latest values, over the window
chosen (kept in the address)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import screenshot, sign_in
from tests.e2e.live import LiveServer, wait_for

pytestmark = pytest.mark.browser


@pytest.mark.usefixtures("worker")
def test_the_overview_draws_the_runs_just_made(page: Page, hatchet_server: LiveServer) -> None:
    with hatchet_server.api() as api:
        response = api.post("/workflows/NightlyImport/runs", json={"input": {"day": "overview"}})
        response.raise_for_status()
        run_id = response.json()["id"]
        wait_for(lambda: api.get(f"/runs/{run_id}").json()["status"] == "FAILED", timeout=20)

    sign_in(page, "vic")
    page.get_by_role("link", name="Overview").click()

    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    runs = page.get_by_role("img", name=re.compile(r"^Runs per second: now "))
    expect(runs).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile(r"^Failed runs: [1-9]\d* failed"))
    ).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^Queue depth: "))).to_be_visible()
    latency = re.compile(r"^Trigger-to-start latency: latest p50 [\d.]+ m?s, p99 [\d.]+ m?s$")
    expect(page.get_by_role("img", name=latency)).to_be_visible()
    screenshot(page, "overview")

    page.get_by_role("combobox", name="Window").select_option("7d")
    expect(page).to_have_url(re.compile(r"/overview\?window=7d$"))
    expect(runs).to_be_visible()
