"""Everything on embedded defaults: migrate, bootstrap, serve, and the example worker."""

import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hatchet.bootstrap import ensure_default_tenant


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
            self.style.SUCCESS("Hatchet is starting on embedded defaults.\n")
            + f"  dashboard   {url}/ (user '{setup.username}', password '{setup.password}')\n"
            + f"  API docs    {url}/api/docs/\n"
            + f"  API token   {setup.token}\n"
            + f"              (also in {token_file}; export HATCHET_TOKEN=$(cat {token_file}))\n"
        )
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    host,
                    "-p",
                    str(port),
                    "hatchet.asgi:application",
                ]
            )
        ]
        try:
            self.wait_until_up(url, processes[0])
            if not options["no_example"]:
                env = dict(os.environ, HATCHET_SERVER_URL=url, HATCHET_TOKEN=setup.token)
                processes.append(
                    subprocess.Popen([sys.executable, "-m", "examples.support_reply"], env=env)
                )
                self.stdout.write(
                    "  example     worker 'support-worker' serves SupportReply; try:\n"
                    f"              HATCHET_TOKEN=$(cat {token_file}) "
                    f"{sys.executable} -m examples.trigger\n"
                )
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in reversed(processes):
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            for process in reversed(processes):
                try:
                    process.wait(timeout=25)
                except subprocess.TimeoutExpired:
                    process.kill()

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
