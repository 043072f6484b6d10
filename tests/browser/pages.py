"""What the browser tests do on a page: sign in, take a screenshot."""

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from bench.processes import ROOT

CHROMIUM = os.environ.get("HATCHET_CHROMIUM", "/usr/bin/chromium")


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


SCREENSHOTS = Path(os.environ.get("HATCHET_SCREENSHOTS", ROOT / "build" / "screenshots"))


EXPECTED_REFUSAL = re.compile(r"Failed to load resource: .* status of 4\d\d")


GITHUB_TOKEN = "ghp_browser_tests_token"


PASSWORD = "a long browser password 7"


# The people of the journeys: username -> role in the tenant.
PEOPLE = {"pat": "editor", "dev": "editor", "vic": "viewer"}


def sign_in(page: Page, username: str) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def screenshot(page: Page, name: str, **options: Any) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), **options)
    return path
