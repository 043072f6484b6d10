"""The pull request socket: a snapshot, then each state the request goes through."""

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from hatchet.models import APIToken, Tenant, TokenRole
from playground.github.pull_requests import request_pull_request
from playground.services import Author
from tests.factories import connect, member_client, open_socket, socket_close_code
from tests.github_server import LoopbackGitHub
from tests.playground.test_pull_requests import BRIEF, create_variant, run_task


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("source", "repo")
def test_the_socket_shows_the_request_go_from_queued_to_opened(
    tenant: Tenant, github: LoopbackGitHub
) -> None:
    connect(tenant, github)
    editor = member_client(tenant, "editor", username="eve")
    variant = create_variant(editor, BRIEF)
    # Queued without the task that the API's click would start, which the test runs
    # once the socket watches.
    request, _ = request_pull_request(tenant, variant, Author(None, "eve"))
    request_id = str(request.pk)
    received: list[dict[str, Any]] = []

    async def watch() -> None:
        socket = await open_socket(tenant, f"/ws/playground/pull-requests/{request_id}")
        received.append(await socket.receive_json_from(timeout=5))
        await database_sync_to_async(run_task)(request_id)
        while received[-1].get("state") not in ("opened", "failed"):
            received.append(await socket.receive_json_from(timeout=5))
        await socket.disconnect()

    async_to_sync(watch)()

    snapshot, *changes = received
    assert (snapshot["type"], snapshot["pull_request"]["state"]) == (
        "pull_request.snapshot",
        "queued",
    )
    assert [(m["type"], m["state"]) for m in changes] == [
        ("pull_request.state", "running"),
        ("pull_request.state", "opened"),
    ]
    assert changes[-1]["pr_url"] == "https://github.example/acme/app/pull/1"
    assert changes[-1]["pr_state"] == "open"


@pytest.mark.django_db(transaction=True)
def test_the_socket_refuses_strangers_and_unknown_requests(tenant: Tenant) -> None:
    _, secret = APIToken.issue(tenant, "socket", TokenRole.ADMIN)

    path = "/ws/playground/pull-requests/00000000-0000-0000-0000-000000000000"
    assert async_to_sync(socket_close_code)(path, []) == 4401
    auth = [(b"authorization", f"Bearer {secret}".encode())]
    assert async_to_sync(socket_close_code)(path, auth) == 4404
