"""The dashboard's pages and assets, served from its build directory."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.test.utils import override_settings


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<div id=root></div>")
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not an asset")
    with override_settings(HATCHET_FRONTEND_DIR=tmp_path):
        yield tmp_path


@pytest.mark.parametrize("path", ["/", "/runs", "/runs/0b3c/steps", "/playground?x=1"])
@pytest.mark.usefixtures("build")
def test_every_page_path_gets_the_index(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 200
    assert response.content == b"<div id=root></div>"
    assert response["Cache-Control"] == "no-cache"


@pytest.mark.usefixtures("build")
def test_assets_are_served_with_a_long_cache() -> None:
    response = Client().get("/assets/app-1a2b.js")

    assert response.status_code == 200
    assert response.content == b"console.log(1)"
    assert response["Content-Type"] == "text/javascript"
    assert "immutable" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/assets/missing.js", "/assets/../secret.txt", "/assets/"])
@pytest.mark.usefixtures("build")
def test_unknown_assets_and_escapes_are_404(path: str) -> None:
    assert Client().get(path).status_code == 404


@pytest.mark.usefixtures("build", "db")
def test_api_paths_are_not_pages() -> None:
    response = Client().get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_without_a_build_the_page_says_how_to_build(tmp_path: Path) -> None:
    with override_settings(HATCHET_FRONTEND_DIR=tmp_path):
        response = Client().get("/runs")

    assert response.status_code == 503
    assert b"make dev" in response.content
