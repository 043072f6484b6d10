"""Everything a developer needs, on whichever backend the environment names: migrate,
bootstrap, then the server as `manage.py serve` runs it, the engine tick and a Celery
worker when the backend puts them outside the server, and the example worker. SIGINT
(Ctrl-C) or SIGTERM stops them all."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hatchet.bootstrap import development_keys, ensure_default_tenant

# Time each process gets to stop after SIGTERM: the example worker drains its steps.
STOP_TIMEOUT = 25.0


class Stopped(Exception):
    """Dev was asked to stop (SIGINT or SIGTERM)."""


def database_place() -> str:
    database = settings.DATABASES["default"]
    if settings.IS_POSTGRES:
        port = f":{database['PORT']}" if database.get("PORT") else ""
        return f"PostgreSQL, {database['HOST']}{port}/{database['NAME']}"
    return f"SQLite, {database['NAME']}"


def redis_place() -> str:
    """host:port/db of REDIS_URL, without its credentials."""
    parts = urlsplit(settings.REDIS_URL)
    return parts.netloc.rsplit("@", 1)[-1] + parts.path


def manage(*args: str) -> list[str]:
    return [sys.executable, str(settings.BASE_DIR / "manage.py"), *args]


def celery_worker() -> list[str]:
    """One process, which is plenty for a developer's pull requests."""
    arguments = (
        "-A hatchet.celery worker --loglevel INFO --pool solo --without-mingle --without-gossip"
    )
    return [sys.executable, "-m", "celery", *arguments.split()]


@dataclass
class Children:
    """The processes dev started, each in a session of its own: a Ctrl-C in the
    terminal reaches dev alone, which stops them one by one in the reverse order of
    their start (the example worker first, while the server can still take what it
    hands back)."""

    keys: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, command: list[str], **env: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: S603 (our own argument lists, no shell)
            command,
            cwd=settings.BASE_DIR,
            env={**os.environ, **self.keys, **env},
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def exited(self) -> str | None:
        """The name of a process that has exited, if one has."""
        return next((name for name, p in self.processes.items() if p.poll() is not None), None)

    def stop(self) -> None:
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def kill(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()


class Command(BaseCommand):
    help = "Set up and run Hatchet locally with the example worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8080)
        parser.add_argument("--no-example", action="store_true", help="do not start the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        setup = ensure_default_tenant()
        host, port = options["host"], options["port"]
        url = f"http://{host}:{port}"
        token_file = settings.DATA_DIR / "token"
        self.stdout.write(
            self.style.SUCCESS("Hatchet is starting.\n")
            + self.backend_banner()
            + f"  dashboard   {url}/ (user '{setup.username}', password '{setup.password}')\n"
            + f"  API docs    {url}/api/docs/\n"
            + f"  API token   {setup.token}\n"
            + f"              (also in {token_file}; export HATCHET_TOKEN=$(cat {token_file}))\n"
        )
        children = Children(development_keys())

        def stop(_signum: int, _frame: FrameType | None) -> None:
            # A second signal while stopping: stop waiting.
            signal.signal(signal.SIGINT, lambda *_: children.kill())
            signal.signal(signal.SIGTERM, lambda *_: children.kill())
            raise Stopped

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            server = children.start("server", manage("serve", "--host", host, "--port", str(port)))
            if not settings.HATCHET_IN_PROCESS_TICKER:
                children.start("engine tick", manage("run_engine"))
            if not settings.CELERY_TASK_ALWAYS_EAGER:
                children.start("celery worker", celery_worker())
            self.wait_until_up(url, server)
            if not options["no_example"]:
                children.start(
                    "example worker",
                    [sys.executable, "-m", "examples.support_reply"],
                    HATCHET_SERVER_URL=url,
                    HATCHET_TOKEN=setup.worker_token,
                )
                self.stdout.write(
                    "  example     worker 'support-worker' serves SupportReply with a worker\n"
                    f"              token ({settings.DATA_DIR / 'worker-token'}); try:\n"
                    f"              HATCHET_TOKEN=$(cat {token_file}) "
                    f"{sys.executable} -m examples.trigger\n"
                )
            while (exited := children.exited()) is None:
                time.sleep(0.5)
            raise CommandError(f"The {exited} exited; see the log above. Stopping the rest.")
        except Stopped:
            pass
        finally:
            children.stop()

    def backend_banner(self) -> str:
        redis = redis_place() if settings.REDIS_URL else ""
        lines = {
            "database": database_place(),
            "channels": f"Redis, {redis}" if redis else "in memory, in the server",
            "celery": "eager, in the server"
            if settings.CELERY_TASK_ALWAYS_EAGER
            else f"a worker on Redis, {redis} (started here)",
            "engine tick": "in the server"
            if settings.HATCHET_IN_PROCESS_TICKER
            else "manage.py run_engine (started here)",
        }
        return "".join(f"  {name:<11} {place}\n" for name, place in lines.items())

    def wait_until_up(self, url: str, server: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError("The server exited while starting; see the log above.")
            try:
                # The first request also starts the dispatcher and the ticker.
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise CommandError(f"The server did not answer on {url} within 30 s.")
