"""The deploy files (deploy/, docs/deploy.md) as far as this machine can check them
without containers: each parses, every command they run is one the code has, every
setting they set is one the code reads, the probes name the health endpoints, and what
the Dockerfile copies exists."""

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

from bench.processes import ROOT

DEPLOY = ROOT / "deploy"
# What the code reads from the environment (settings, the SDK worker), as it names it.
READ_BY_CODE = {
    name
    for path in [ROOT / "hatchet" / "settings.py", ROOT / "hatchet" / "sdk" / "worker.py"]
    for name in re.findall(
        r"""(?:env\w*|environ\.get|getenv)\(\s*["']([A-Z_]+)["']""", path.read_text()
    )
}
# Read by the images the compose file runs beside ours.
THEIRS = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def manifests() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes" / "hatchet.yaml").read_text())]


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def check_command(argv: list[str]) -> None:
    """A command our processes run: `python manage.py <one of ours>` or the Celery app."""
    if argv[0].endswith("celery"):
        assert argv[1:4] == ["-A", "hatchet.celery", "worker"], argv
        from hatchet.celery import app

        assert app.main
        return
    assert argv[0].endswith("python"), argv
    assert argv[1] == "manage.py", argv
    assert argv[2] in get_commands(), f"no management command {argv[2]!r}"


def test_the_settings_read_cover_what_deploy_files_set() -> None:
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HATCHET_WORKER_GRACE"} <= READ_BY_CODE
    set_names = set(compose()["x-hatchet"]["environment"])
    for doc in manifests():
        if doc["kind"] == "ConfigMap":
            set_names |= set(doc["data"])
    env_file = (DEPLOY / "systemd" / "hatchet.env").read_text()
    set_names |= {
        line.split("=", 1)[0]
        for line in env_file.splitlines()
        if "=" in line and not line.startswith("#")
    }
    # HATCHET_ENCRYPTION_KEY is read beside HATCHET_ENCRYPTION_KEYS (settings.py).
    unknown = set_names - READ_BY_CODE - {"HATCHET_ENCRYPTION_KEY"}
    assert not unknown, f"set but read by nothing: {sorted(unknown)}"


def test_the_compose_file_runs_our_commands_with_health_checks() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "server", "engine", "celery"}
    for name in ("migrate", "server", "engine", "celery"):
        check_command(services[name]["command"])
        assert services[name]["image"] == "hatchet:latest"
    assert services["server"]["deploy"]["replicas"] == 3
    assert services["engine"]["deploy"]["replicas"] == 2
    assert "/readyz" in " ".join(services["server"]["healthcheck"]["test"])
    assert services["server"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert "migrate" not in services["migrate"]["depends_on"]


def test_the_kubernetes_manifests_probe_health_and_run_our_commands() -> None:
    docs = manifests()
    kinds = [(doc["kind"], doc["metadata"]["name"]) for doc in docs]
    assert kinds == [
        ("ConfigMap", "hatchet"),
        ("Job", "hatchet-migrate"),
        ("Deployment", "hatchet-server"),
        ("Service", "hatchet"),
        ("Deployment", "hatchet-engine"),
        ("Deployment", "hatchet-celery"),
    ]
    allowed_hosts = docs[0]["data"]["ALLOWED_HOSTS"].split(",")
    for doc in docs:
        assert doc["apiVersion"] in {"v1", "apps/v1", "batch/v1"}
        if doc["kind"] not in {"Deployment", "Job"}:
            continue
        template = doc["spec"]["template"]
        if doc["kind"] == "Deployment":
            assert (
                doc["spec"]["selector"]["matchLabels"].items()
                <= template["metadata"]["labels"].items()
            )
        [container] = template["spec"]["containers"]
        check_command(container["command"])
        assert {
            source.get("configMapRef", source.get("secretRef"))["name"]
            for source in container["envFrom"]
        } == {"hatchet"}
    server = docs[2]["spec"]["template"]["spec"]["containers"][0]
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = server[probe]["httpGet"]
        assert get["path"] == path
        assert resolve(path).url_name == path.strip("/")
        # Django answers 400 to a Host it does not allow.
        assert {h["name"]: h["value"] for h in get["httpHeaders"]}["Host"] in allowed_hosts
    service = docs[3]["spec"]
    assert service["selector"] == docs[2]["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize(
    "unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=lambda p: p.name
)
def test_the_systemd_units_run_our_commands(unit: Path) -> None:
    lines = dict(
        line.split("=", 1)
        for line in unit.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert lines["EnvironmentFile"] == "/etc/hatchet/hatchet.env"
    argv = shlex.split(lines["ExecStart"].replace("%i", "8080"))
    argv[0] = Path(argv[0]).name
    check_command(argv)
    assert lines["Restart"] == "always"
    assert lines["KillSignal"] == "SIGTERM"


def test_the_dockerfile_copies_what_exists_and_serves() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.MULTILINE):
        for source in sources.split():
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is missing"
    [cmd] = re.findall(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    check_command(yaml.safe_load(cmd))
    assert "python:3.11" in text
