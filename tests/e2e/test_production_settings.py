"""Production settings: the processes that serve or work refuse the public development
SECRET_KEY unless DEBUG is on, `manage.py check --deploy` is clean with the settings
docs/security.md documents, and proxy headers are believed only when told to."""

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.livestack import free_port
from bench.processes import ROOT
from hatchet.management.commands.serve import daphne_arguments
from tests.e2e.live import stop_process, wait_for

pytestmark = pytest.mark.e2e

SECURITY_DOC = ROOT / "docs" / "security.md"
# The production environment docs/security.md lists (its "Production checklist").
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "hatchet.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://hatchet.example.com",
    "HATCHET_PUBLIC_URL": "https://hatchet.example.com",
    "HATCHET_ENCRYPTION_KEY": secrets.token_urlsafe(32),
    "HATCHET_SECURE_COOKIES": "1",
    "HATCHET_SSL_REDIRECT": "1",
    "HATCHET_HSTS_SECONDS": "31536000",
    "HATCHET_HSTS_INCLUDE_SUBDOMAINS": "1",
    "HATCHET_HSTS_PRELOAD": "1",
    "HATCHET_TRUST_PROXY_HEADERS": "1",
}
REFUSAL = "ImproperlyConfigured: SECRET_KEY is not set (the public development key is in use)"


def environment(tmp_path: Path, **changes: str) -> dict[str, str]:
    """This process's environment without SECRET_KEY and DEBUG, with `changes`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST_") and k not in ("SECRET_KEY", "DEBUG")
    }
    return {**env, "HATCHET_DATA_DIR": str(tmp_path), **changes}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "command",
    [
        ["manage.py", "serve", "--port", "0"],
        ["manage.py", "run_engine"],
        ["-m", "celery", "-A", "hatchet.celery", "worker", "--pool", "solo"],
        ["-m", "celery", "-A", "hatchet.celery", "beat", "--schedule", "{tmp}/beat"],
    ],
    ids=["serve", "run_engine", "celery worker", "celery beat"],
)
def test_serving_processes_refuse_the_public_development_key(
    tmp_path: Path, command: list[str]
) -> None:
    command = [part.replace("{tmp}", str(tmp_path)) for part in command]

    unset = run(environment(tmp_path), *command)

    assert unset.returncode != 0
    assert REFUSAL in unset.stderr, unset.stderr[-2000:]
    assert "set the SECRET_KEY environment variable" in unset.stderr


def test_the_development_key_named_explicitly_is_refused_too(tmp_path: Path) -> None:
    env = environment(tmp_path, SECRET_KEY="insecure-dev-key-set-SECRET_KEY-in-production")

    answer = run(env, "manage.py", "serve", "--port", "0")

    assert answer.returncode != 0
    assert REFUSAL in answer.stderr


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize(
    "changes", [{"DEBUG": "1"}, {"SECRET_KEY": PRODUCTION["SECRET_KEY"]}], ids=["debug", "key"]
)
def test_the_server_starts_with_debug_on_or_a_key_of_its_own(
    tmp_path: Path, changes: dict[str, str]
) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=environment(tmp_path, **changes),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), timeout=60)
    finally:
        stop_process(server)


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path: Path) -> None:
    bare = run(environment(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    production = run(
        environment(tmp_path, **PRODUCTION),
        *("manage.py", "check", "--deploy", "--fail-level", "WARNING"),
    )

    assert bare.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W009", "security.W012"):
        assert warning in bare.stderr
    assert "hatchet.W001" in bare.stderr
    assert (production.returncode, production.stderr) == (0, ""), production.stderr
    assert production.stdout == "System check identified no issues (0 silenced).\n"


def test_every_production_setting_is_documented() -> None:
    text = SECURITY_DOC.read_text()
    checklist = text.split("## Production checklist", 1)[1].split("\n## ", 1)[0]
    assert [name for name in PRODUCTION if f"`{name}`" not in checklist] == []


@pytest.mark.parametrize(("trusted", "given"), [(True, True), (False, False)])
def test_daphne_believes_x_forwarded_for_only_behind_a_trusted_proxy(
    settings: Any, trusted: bool, given: bool
) -> None:
    settings.HATCHET_TRUST_PROXY_HEADERS = trusted

    assert ("--proxy-headers" in daphne_arguments("127.0.0.1", 8080)) is given
