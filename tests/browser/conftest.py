"""Browser tests: Debian's Chromium driven by Playwright against a live server (with
the built dashboard), a live SDK worker and the loopback GitHub.

They run in their own pytest invocation (`-m browser`), on the embedded defaults:
Playwright's sync API and pytest-asyncio do not share a process.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from bench.processes import ROOT
from tests.browser.pages import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXPECTED_REFUSAL,
    GITHUB_TOKEN,
    PASSWORD,
    PEOPLE,
)
from tests.e2e.live import E2E_SETTINGS, LiveServer, wait_for, worker_named
from tests.github_server import LoopbackGitHub


@pytest.fixture(scope="session")
def github() -> Iterator[LoopbackGitHub]:
    """acme/app on the loopback GitHub, holding the example worker's code."""
    server = LoopbackGitHub(Path(tempfile.mkdtemp(prefix="hatchet-gh-")), token=GITHUB_TOKEN)
    source = (ROOT / "examples" / "support_reply.py").read_text()
    server.repo.commit_files("main", {"examples/support_reply.py": source})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def hatchet_server(github: LoopbackGitHub) -> Iterator[LiveServer]:
    build = Path(os.environ.get("HATCHET_FRONTEND_DIR", ROOT / "frontend" / "dist"))
    if not (build / "index.html").is_file():
        pytest.fail(f"No dashboard build in {build}: run `make frontend` (npm ci + build).")
    data_dir = Path(tempfile.mkdtemp(prefix="hatchet-browser-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        E2E_SETTINGS,
        HATCHET_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
        GITHUB_API_URL=github.url,
        HATCHET_GITHUB_WRITE_INTERVAL="0",
    )
    server = LiveServer(env, data_dir)
    for username, role in PEOPLE.items():
        server.manage(
            "add_member",
            *("--tenant", "e2e", "--username", username, "--password", PASSWORD),
            *("--role", role),
        )
    server.start()
    with server.api() as api:
        connection = {"repository": github.full_name, "base_branch": "main", "token": GITHUB_TOKEN}
        api.put("/playground/github-connection", json=connection).raise_for_status()
    yield server
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def worker(hatchet_server: LiveServer) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.worker_app", "browser-worker"],
        cwd=ROOT,
        env={
            **hatchet_server.env,
            "HATCHET_SERVER_URL": hatchet_server.url,
            "HATCHET_TOKEN": hatchet_server.token,
        },
        stdout=hatchet_server.log,
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: worker_named(hatchet_server, "browser-worker", process), timeout=20)
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: Browser, hatchet_server: LiveServer) -> Iterator[Page]:
    """A fresh browser context at a laptop's size; any console error fails the test."""
    context = chromium.new_context(
        base_url=hatchet_server.url, viewport={"width": 1440, "height": 900}
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium logs every 4xx answer; a refusal the page shows to the user is no bug.
        if message.type == "error" and not EXPECTED_REFUSAL.match(message.text):
            errors.append(f"console: {message.text} at {message.location}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    yield tab
    context.close()
    assert not errors, "\n".join(errors)
