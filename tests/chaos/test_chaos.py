"""The short form of the fault suite, on the backend the test run is given."""

import os
from pathlib import Path

import pytest

from tests.chaos.__main__ import DEFAULT_POSTGRES_URL
from tests.chaos.harness import run_chaos, short_form

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(600)
def test_faults_lose_no_run_and_repeat_no_result(tmp_path: Path) -> None:
    database_url = os.environ.get("DATABASE_URL")
    backend = "services" if database_url else "embedded"

    verdict = run_chaos(
        short_form(backend, tmp_path / backend, database_url or DEFAULT_POSTGRES_URL)
    )

    assert verdict.broken() == [], verdict.table()
