"""The periodic look at every open pull request on GitHub (merged? closed?), beside
the webhook, which a repository may not send or a server may miss."""

import logging
from collections import defaultdict
from typing import Any

from playground.github.client import GitHubError, client_for, doing, masked
from playground.github.connections import token_of
from playground.github.states import pull_state, record_pull_state
from playground.models import GitHubConnection, PullRequestRequest, PullRequestState, PullState

logger = logging.getLogger(__name__)


def refresh_pull_request_states() -> int:
    """Look at every open pull request on GitHub; returns the requests updated."""
    numbers: dict[Any, set[int]] = defaultdict(set)
    for tenant_id, number in PullRequestRequest.objects.filter(
        state=PullRequestState.OPENED, pr_state=PullState.OPEN, pr_number__isnull=False
    ).values_list("tenant_id", "pr_number"):
        if number is not None:
            numbers[tenant_id].add(number)
    updated = 0
    for connection in GitHubConnection.objects.filter(tenant_id__in=list(numbers)):
        token = token_of(connection)
        try:
            github = client_for(connection)
            with doing(f"opening the repository {connection.repository}"):
                repo = github.get_repo(connection.repository)
            for number in sorted(numbers[connection.tenant_id]):
                with doing(f"reading pull request #{number}"):
                    pull = repo.get_pull(number)
                    state = pull_state(pull.state, pull.merged)
                updated += record_pull_state(connection.tenant_id, number, state)
        except GitHubError as error:
            logger.warning(
                "playground: refreshing the pull requests of %s: %s",
                connection.repository,
                masked(error.message, token),
            )
    return updated
