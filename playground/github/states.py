"""The state of a request for a pull request, and of its pull request on GitHub: each
change saved, and announced to the pages watching once committed."""

from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from hatchet.concurrency import submit
from playground.models import PullRequestRequest, PullRequestState, PullState


def pull_request_group(request_id: Any) -> str:
    return f"pull_request.{request_id}"


def announce(request: PullRequestRequest) -> None:
    """Tell the pages watching the request, once its change is committed."""
    group, message = pull_request_group(request.pk), request.as_message()

    async def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            await layer.group_send(group, {"type": "pull_request.changed", "message": message})

    transaction.on_commit(lambda: submit(send))


def announce_now(request: PullRequestRequest) -> None:
    with transaction.atomic():
        announce(request)


def set_state(request: PullRequestRequest, state: str, reason: str = "", **fields: Any) -> None:
    request.state = state
    request.reason = reason
    request.updated_at = timezone.now()
    for name, value in fields.items():
        setattr(request, name, value)
    with transaction.atomic():
        request.save()
        announce(request)


def pull_state(state: str, merged: bool) -> str:
    if merged:
        return PullState.MERGED
    return PullState.OPEN if state == "open" else PullState.CLOSED


def record_pull_state(tenant_id: Any, number: int, state: str) -> int:
    """Every opened request of the tenant's pull request `number` takes `state`."""
    requests_of_pull = list(
        PullRequestRequest.objects.filter(
            tenant_id=tenant_id, pr_number=number, state=PullRequestState.OPENED
        ).exclude(pr_state=state)
    )
    for request in requests_of_pull:
        request.pr_state = state
        request.updated_at = timezone.now()
        with transaction.atomic():
            request.save(update_fields=["pr_state", "updated_at"])
            announce(request)
    return len(requests_of_pull)
