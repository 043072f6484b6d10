"""Tenant isolation, generated from the URL conf and the socket routes: for every
endpoint, a caller of tenant B can neither read, change nor subscribe to tenant A's
objects. Each endpoint must have its rule in the tables below, so a new endpoint
without one fails `test_every_endpoint_has_a_rule` (issue 17, the proof). The rules
hold what B's call must answer, and who may call at all: each token role gets exactly
what docs/security.md's table gives it."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.apps import apps
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.test import APIClient

from alerts.models import AlertRule
from hatchet.auth import WORKER_SCOPE_MESSAGE
from hatchet.models import APIToken, Invitation, Membership, Tenant
from hatchet.routing import websocket_urlpatterns
from playground.models import (
    Comparison,
    Dataset,
    Evaluation,
    Evaluator,
    PlaygroundRun,
    PullRequestRequest,
    RegressionThreshold,
    Variable,
    Variant,
)
from tests.factories import (
    ENCRYPTION_KEY,
    client_for,
    connect_worker,
    filled,
    open_socket,
    playground_objects,
)
from workers.models import Worker
from workflows.models import (
    CronTrigger,
    Event,
    RateLimit,
    ScheduledRun,
    StepRun,
    Workflow,
    WorkflowRun,
)

# Who may call an endpoint beyond the default of docs/security.md (reading needs the
# viewer role, writing the editor's): anyone, a signed-in person only (no token), or
# admins.
ANYONE = "anyone"
PERSON = "person"
ADMIN = "admin"


@dataclass(frozen=True)
class Rule:
    """What tenant B's call answers (its status), with the body it sends; `{name}`
    placeholders are A's objects. `needs` is who may call it at all, and `workers_too`
    lets a worker token in as well."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    needs: str | None = None
    workers_too: bool = False


@pytest.fixture(autouse=True)
def metrics_token(settings: Any) -> None:
    settings.HATCHET_METRICS_TOKEN = "the operator's, not a tenant's"


LATER = (datetime.now(UTC) + timedelta(days=30)).isoformat()
LIST = Rule(200)
A_OBJECT = Rule(404)
PUBLIC = Rule(200, needs=ANYONE)
ADMINS_LIST = Rule(200, needs=ADMIN)
ADMINS_OBJECT = Rule(404, needs=ADMIN)

RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/api/docs/"): PUBLIC,
    ("GET", "/api/schema/"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    # The metrics token alone reads /metrics (the autouse fixture below sets one).
    ("GET", "/metrics"): Rule(401, needs=ANYONE),
    # The session is the dashboard's: a token has none.
    ("GET", "/api/v1/session"): Rule(200, needs=ANYONE),
    (
        "POST",
        "/api/v1/session",
    ): Rule(400, {"username": "root", "password": "not-it"}, needs=ANYONE),
    ("DELETE", "/api/v1/session"): Rule(204, needs=ANYONE),
    ("GET", "/api/v1/crons"): LIST,
    ("POST", "/api/v1/crons"): Rule(404, {"workflow": "Support", "expression": "0 * * * *"}),
    ("GET", "/api/v1/crons/{pk}"): A_OBJECT,
    ("DELETE", "/api/v1/crons/{pk}"): A_OBJECT,
    ("POST", "/api/v1/crons/{pk}/pause"): A_OBJECT,
    ("POST", "/api/v1/crons/{pk}/resume"): A_OBJECT,
    ("GET", "/api/v1/events"): LIST,
    # B's own event: A's workflows do not hear it.
    ("POST", "/api/v1/events"): Rule(201, {"key": "ticket:created"}),
    ("GET", "/api/v1/events/{pk}"): A_OBJECT,
    ("POST", "/api/v1/events/{pk}/replay"): A_OBJECT,
    ("GET", "/api/v1/members"): LIST,
    # A taken username is refused (its holder is invited instead); A's memberships stay.
    (
        "POST",
        "/api/v1/members",
    ): Rule(
        409,
        {"username": "root", "role": "viewer", "password": "a-long-pass-phrase-1"},
        needs=ADMIN,
    ),
    ("PATCH", "/api/v1/members/{pk}"): Rule(404, {"role": "viewer"}, needs=ADMIN),
    ("DELETE", "/api/v1/members/{pk}"): ADMINS_OBJECT,
    ("GET", "/api/v1/invitations"): ADMINS_LIST,
    # B's own invitation of the person A invited: A's stays as it is.
    (
        "POST",
        "/api/v1/invitations",
    ): Rule(201, {"invitee": "pat@example.com", "role": "viewer"}, needs=ADMIN),
    ("DELETE", "/api/v1/invitations/{pk}"): ADMINS_OBJECT,
    # A person's own invitations: a token is no person.
    ("GET", "/api/v1/session/invitations"): Rule(403, needs=PERSON),
    ("POST", "/api/v1/session/invitations/{pk}/accept"): Rule(403, needs=PERSON),
    ("POST", "/api/v1/session/invitations/{pk}/decline"): Rule(403, needs=PERSON),
    ("GET", "/api/v1/playground/compare"): LIST,
    (
        "POST",
        "/api/v1/playground/compare",
    ): Rule(
        404,
        {"workflow": "Support", "columns": [{"baseline": True}], "rows": [{"run": "{source_run}"}]},
    ),
    ("GET", "/api/v1/playground/compare/{pk}"): A_OBJECT,
    ("POST", "/api/v1/playground/compare/{pk}/rescore"): A_OBJECT,
    ("POST", "/api/v1/playground/compare/{pk}/rerun-failed"): A_OBJECT,
    ("GET", "/api/v1/playground/evaluators"): LIST,
    ("GET", "/api/v1/playground/thresholds"): LIST,
    (
        "POST",
        "/api/v1/playground/thresholds",
    ): Rule(404, {"workflow": "Support", "evaluator": "a", "max_drop": 0.1}),
    ("DELETE", "/api/v1/playground/thresholds/{pk}"): A_OBJECT,
    (
        "POST",
        "/api/v1/playground/evaluations",
    ): Rule(404, {"workflow": "Support", "dataset": "d", "variant": "v"}),
    ("GET", "/api/v1/playground/evaluations/{pk}"): A_OBJECT,
    (
        "POST",
        "/api/v1/playground/evaluators",
    ): Rule(404, {"workflow": "Support", "name": "b", "kind": "is_json"}),
    ("GET", "/api/v1/playground/evaluators/{pk}"): A_OBJECT,
    ("PATCH", "/api/v1/playground/evaluators/{pk}"): Rule(404, {"name": "b's"}),
    ("DELETE", "/api/v1/playground/evaluators/{pk}"): A_OBJECT,
    ("POST", "/api/v1/playground/evaluators/{pk}/try"): Rule(404, {"output": "hi"}),
    ("POST", "/api/v1/playground/compare/{pk}/reviews"): Rule(
        404, {"run_id": "{run}", "thumbs": "up"}
    ),
    ("GET", "/api/v1/playground/compare/{pk}/blind-pair"): A_OBJECT,
    ("POST", "/api/v1/playground/compare/{pk}/votes"): Rule(404, {"pair": "x", "choice": "tie"}),
    ("GET", "/api/v1/playground/datasets"): LIST,
    ("POST", "/api/v1/playground/datasets"): Rule(404, {"workflow": "Support", "name": "b"}),
    ("GET", "/api/v1/playground/datasets/{pk}"): A_OBJECT,
    ("PATCH", "/api/v1/playground/datasets/{pk}"): Rule(404, {"description": "b was here"}),
    ("DELETE", "/api/v1/playground/datasets/{pk}"): A_OBJECT,
    ("GET", "/api/v1/playground/datasets/{pk}/export"): A_OBJECT,
    ("POST", "/api/v1/playground/datasets/{pk}/rows"): Rule(404, {"runs": ["{source_run}"]}),
    (
        "POST",
        "/api/v1/playground/datasets/{pk}/rows/remove",
    ): Rule(404, {"rows": ["{dataset_row}"]}),
    # The body is the file: a JSONL line.
    ("POST", "/api/v1/playground/datasets/{pk}/upload"): Rule(404, {"input": {"ticket": "b"}}),
    ("GET", "/api/v1/playground/github-connection"): Rule(404, needs=ADMIN),
    (
        "PUT",
        "/api/v1/playground/github-connection",
    ): Rule(200, {"repository": "b/repo", "token": "ghp_b"}, needs=ADMIN),
    # Believed only when signed with a connection's secret: B has no say.
    (
        "POST",
        "/api/v1/playground/github/webhook",
    ): Rule(401, {"repository": {"full_name": "a/r"}}, needs=ANYONE),
    ("GET", "/api/v1/playground/pull-requests"): LIST,
    ("POST", "/api/v1/playground/pull-requests"): Rule(404, {"variant": "{variant}"}),
    ("GET", "/api/v1/playground/pull-requests/{pk}"): A_OBJECT,
    ("GET", "/api/v1/playground/runs"): LIST,
    ("POST", "/api/v1/playground/runs"): Rule(404, {"workflow": "Support"}),
    ("GET", "/api/v1/playground/runs/{pk}"): A_OBJECT,
    ("POST", "/api/v1/playground/runs/replay"): Rule(404, {"source_run": "{run}"}),
    ("GET", "/api/v1/playground/variables"): LIST,
    ("GET", "/api/v1/playground/variables/{pk}"): A_OBJECT,
    ("GET", "/api/v1/playground/variants"): LIST,
    ("POST", "/api/v1/playground/variants"): Rule(404, {"workflow": "Support", "name": "b"}),
    ("GET", "/api/v1/playground/variants/{pk}"): A_OBJECT,
    ("PATCH", "/api/v1/playground/variants/{pk}"): Rule(404, {"notes": "b was here"}),
    ("DELETE", "/api/v1/playground/variants/{pk}"): A_OBJECT,
    ("POST", "/api/v1/playground/variants/{pk}/restore"): Rule(404, {"revision": 1}),
    ("GET", "/api/v1/playground/variants/{pk}/revisions"): A_OBJECT,
    # B's own runs and queue: nothing of A's is counted.
    ("GET", "/api/v1/overview"): LIST,
    ("GET", "/api/v1/runs"): LIST,
    ("GET", "/api/v1/runs/{pk}"): A_OBJECT,
    ("POST", "/api/v1/runs/{pk}/cancel"): A_OBJECT,
    ("POST", "/api/v1/runs/{pk}/replay"): A_OBJECT,
    ("POST", "/api/v1/runs/{pk}/retry"): A_OBJECT,
    ("GET", "/api/v1/schedules"): LIST,
    (
        "POST",
        "/api/v1/schedules",
    ): Rule(404, {"workflow": "Support", "trigger_at": LATER}),
    ("GET", "/api/v1/schedules/{pk}"): A_OBJECT,
    ("PATCH", "/api/v1/schedules/{pk}"): Rule(404, {"trigger_at": LATER}),
    ("POST", "/api/v1/schedules/{pk}/cancel"): A_OBJECT,
    ("GET", "/api/v1/step-runs/{pk}/logs"): A_OBJECT,
    ("GET", "/api/v1/step-runs/{pk}/stream"): A_OBJECT,
    ("POST", "/api/v1/step-runs/{pk}/skip-wait"): A_OBJECT,
    ("GET", "/api/v1/tokens"): ADMINS_LIST,
    ("POST", "/api/v1/tokens"): Rule(201, {"name": "b's"}, needs=ADMIN),
    ("DELETE", "/api/v1/tokens/{pk}"): ADMINS_OBJECT,
    ("GET", "/api/v1/workers"): Rule(200, workers_too=True),
    ("GET", "/api/v1/workers/{pk}"): Rule(404, workers_too=True),
    ("GET", "/api/v1/workflows"): LIST,
    # B's own workflow of the same name: a new one of B's, A's stays as it is.
    (
        "POST",
        "/api/v1/workflows",
    ): Rule(201, {"name": "Support", "steps": [{"name": "s"}]}, workers_too=True),
    ("GET", "/api/v1/workflows/{name}"): A_OBJECT,
    ("POST", "/api/v1/workflows/{name}/runs"): A_OBJECT,
    ("POST", "/api/v1/workflows/{name}/runs/bulk"): Rule(404, {"runs": [{"input": {}}]}),
    ("POST", "/api/v1/workflows/{name}/pause"): A_OBJECT,
    # B cancels and replays only its own runs: the filters match none of A's.
    ("POST", "/api/v1/runs/cancel"): LIST,
    ("POST", "/api/v1/runs/replay"): Rule(201),
    ("POST", "/api/v1/workflows/{name}/resume"): A_OBJECT,
    ("GET", "/api/v1/rate-limits"): LIST,
    # B's limit of the same key is its own: A's keeps its limit and its uses.
    ("POST", "/api/v1/rate-limits"): Rule(201, {"key": "llm", "limit": 1, "period": "second"}),
    ("GET", "/api/v1/rate-limits/{pk}"): A_OBJECT,
    ("DELETE", "/api/v1/rate-limits/{pk}"): A_OBJECT,
    ("GET", "/api/v1/retention"): LIST,
    # B's period is its own: A's stays.
    ("PUT", "/api/v1/retention"): Rule(200, {"days": 7}, needs=ADMIN),
    ("GET", "/api/v1/alerts/rules"): LIST,
    # B's own rule of the same name: A's stays as it is.
    (
        "POST",
        "/api/v1/alerts/rules",
    ): Rule(201, {"name": "a", "kind": "failed_runs", "emails": ["b@example.com"]}, needs=ADMIN),
    ("GET", "/api/v1/alerts/rules/{pk}"): A_OBJECT,
    ("PATCH", "/api/v1/alerts/rules/{pk}"): Rule(404, {"threshold": 2}, needs=ADMIN),
    ("DELETE", "/api/v1/alerts/rules/{pk}"): ADMINS_OBJECT,
    ("POST", "/api/v1/alerts/rules/{pk}/test"): ADMINS_OBJECT,
    ("GET", "/api/v1/alerts/events"): LIST,
}

# The model whose row of A a path's {pk} or {name} names, by the path's resource.
PATH_OBJECTS: dict[str, Any] = {
    "/api/v1/alerts/rules/": AlertRule,
    "/api/v1/crons/": CronTrigger,
    "/api/v1/events/": Event,
    "/api/v1/invitations/": Invitation,
    "/api/v1/session/invitations/": Invitation,
    "/api/v1/members/": Membership,
    "/api/v1/playground/compare/": Comparison,
    "/api/v1/playground/datasets/": Dataset,
    "/api/v1/playground/evaluators/": Evaluator,
    "/api/v1/playground/evaluations/": Evaluation,
    "/api/v1/playground/thresholds/": RegressionThreshold,
    "/api/v1/playground/pull-requests/": PullRequestRequest,
    "/api/v1/playground/runs/": PlaygroundRun,
    "/api/v1/playground/variables/": Variable,
    "/api/v1/playground/variants/": Variant,
    "/api/v1/rate-limits/": RateLimit,
    "/api/v1/runs/": WorkflowRun,
    "/api/v1/schedules/": ScheduledRun,
    "/api/v1/step-runs/": StepRun,
    "/api/v1/tokens/": APIToken,
    "/api/v1/workers/": Worker,
    "/api/v1/workflows/": Workflow,
}


@pytest.fixture(autouse=True)
def encryption_key(settings: Any) -> None:
    """Both tenants store their GitHub connection's token."""
    settings.HATCHET_ENCRYPTION_KEYS = [ENCRYPTION_KEY]


def endpoints() -> set[tuple[str, str]]:
    return {(method, path) for path, _, method, _ in EndpointEnumerator().get_api_endpoints()}


def test_every_endpoint_has_a_rule() -> None:
    assert endpoints() == set(RULES)


def objects_of(tenant: Tenant) -> dict[str, str]:
    """One of everything a tenant holds, made as its programs and people make them."""
    ids = playground_objects(tenant)
    programs = client_for(tenant)
    for path, body in [
        ("/api/v1/crons", {"workflow": "Support", "expression": "0 * * * *"}),
        ("/api/v1/schedules", {"workflow": "Support", "trigger_at": LATER}),
        ("/api/v1/rate-limits", {"key": "llm", "limit": 5, "period": "minute"}),
        ("/api/v1/events", {"key": "ticket:created"}),
        ("/api/v1/invitations", {"invitee": "pat@example.com", "role": "viewer"}),
        ("/api/v1/playground/github-connection", {"repository": "a/repo", "token": "ghp_a"}),
        ("/api/v1/playground/evaluators", {"workflow": "Support", "name": "a", "kind": "is_json"}),
        ("/api/v1/playground/thresholds", {"workflow": "Support", "evaluator": "a", "at_least": 1}),
        ("/api/v1/alerts/rules", {"name": "a", "kind": "failed_runs", "emails": ["a@example.com"]}),
    ]:
        method = programs.put if path.endswith("connection") else programs.post
        assert method(path, body, format="json").status_code in (200, 201), path
    # A test delivery of A's rule, for the events list (mail goes to Django's outbox).
    rule = AlertRule.objects.get(tenant=tenant)
    assert programs.post(f"/api/v1/alerts/rules/{rule.pk}/test").status_code == 200
    connect_worker(tenant, "a-worker", ["Support:draft"])
    dataset = programs.post(
        "/api/v1/playground/datasets", {"workflow": "Support", "name": "d"}, format="json"
    ).json()["id"]
    added = programs.post(
        f"/api/v1/playground/datasets/{dataset}/rows", {"runs": [ids["source_run"]]}, format="json"
    )
    ids["dataset_row"] = added.json()["rows"][0]["id"]
    evaluation = programs.post(
        "/api/v1/playground/evaluations",
        {"workflow": "Support", "dataset": "d", "variant": "v"},
        format="json",
    )
    assert evaluation.status_code == 201, evaluation.json()
    PullRequestRequest.objects.create(
        tenant=tenant,
        workflow=Workflow.objects.get(tenant=tenant),
        variant_id=ids["variant"],
        variant_name="v",
        revision=1,
        created_by_name="root",
    )
    return ids


def tenant_rows(tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    """The tenant's row and every row of every model that belongs to it, as they are now."""
    rows = {}
    for model in apps.get_models():
        if model is Tenant:
            owned: dict[str, Any] = {"pk": tenant.pk}
        elif any(f.name == "tenant" for f in model._meta.get_fields()):
            owned = {"tenant": tenant}
        else:
            continue
        rows[model._meta.label] = list(
            model._default_manager.filter(**owned).order_by("pk").values()
        )
    return rows


def url_of(path: str, tenant: Tenant) -> str:
    for prefix, model in PATH_OBJECTS.items():
        if path.startswith(prefix) and "{" in path:
            row = model._default_manager.filter(tenant=tenant).order_by("pk").first()
            key = row.name if model is Workflow else row.pk
            return path.replace("{pk}", str(key)).replace("{name}", str(key))
    assert "{" not in path, f"no object of A for {path}: add its model to PATH_OBJECTS"
    return path


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), sorted(RULES))
def test_a_caller_of_another_tenant_neither_reads_nor_changes_its_objects(
    tenant: Tenant, other_tenant: Tenant, method: str, path: str
) -> None:
    ids = objects_of(tenant)
    before = tenant_rows(tenant)
    # A's ids, none of which B may see in any answer.
    secrets = {str(tenant.pk), *ids.values()} | {
        str(row["id"])
        for rows in before.values()
        for row in rows
        if isinstance(row.get("id"), uuid.UUID)
    }
    rule = RULES[(method, path)]
    url, body = url_of(path, tenant), json_of(filled(rule.body, ids))

    response = client_for(other_tenant).generic(
        method, url, data=body, content_type="application/json"
    )

    assert response.status_code == rule.status, response.content[:500]
    answer = response.content.decode()
    # An id B sent may come back in the refusal; no other of A's may.
    told = [secret for secret in secrets if secret in answer and secret not in url + body]
    assert told == []
    assert tenant_rows(tenant) == before


def json_of(body: dict[str, Any]) -> str:
    return json.dumps(body) if body else ""


MEMBER_ROLES = ["viewer", "editor", "admin"]


def refusal(rule: Rule, method: str, role: str) -> str | None:
    """The 403's message a token of `role` gets, as docs/security.md's table has it;
    None where the role may call."""
    if rule.needs == ANYONE:
        return None
    if rule.needs == PERSON:
        return "Only the invited person answers an invitation."
    if role == "worker":
        return None if rule.workers_too else WORKER_SCOPE_MESSAGE
    needed = rule.needs or ("viewer" if method == "GET" else "editor")
    if MEMBER_ROLES.index(role) >= MEMBER_ROLES.index(needed):
        return None
    return f"This needs the {needed} role."


# Made-up ids for the paths and bodies: the role is checked before any lookup.
MADE_UP = {
    "source_run": str(uuid.uuid4()),
    "variant": str(uuid.uuid4()),
    "run": str(uuid.uuid4()),
    "dataset_row": str(uuid.uuid4()),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), sorted(RULES))
def test_each_token_role_may_call_what_docs_security_md_says(
    tenant: Tenant, method: str, path: str
) -> None:
    rule = RULES[(method, path)]
    url = path.replace("/members/{pk}", "/members/1").replace("{name}", "Support")
    url = url.replace("{pk}", str(uuid.uuid4()))
    answers = {}
    for role in [*MEMBER_ROLES, "worker"]:
        _, secret = APIToken.issue(tenant, role, role)
        response = APIClient().generic(
            method,
            url,
            data=json_of(filled(rule.body, MADE_UP)),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        refused = response.status_code == 403
        answers[role] = response.json()["error"]["message"] if refused else response.status_code

    expected = {role: refusal(rule, method, role) for role in answers}
    assert {role: a if isinstance(a, str) else None for role, a in answers.items()} == expected
    assert all(a < 500 for a in answers.values() if isinstance(a, int)), answers


# What a socket of tenant B gets when it names A's objects, by route.
SOCKET_RULES: dict[str, str] = {
    "ws/worker": "a report on A's step run is an unknown step run",
    "ws/client": "a trigger of A's workflow finds no such workflow",
    "^ws/runs/(?P<run_id>[0-9a-fA-F-]{36})$": "closed with 4404",
    "^ws/playground/compare/(?P<comparison_id>[0-9a-fA-F-]{36})$": "closed with 4404",
    "^ws/playground/pull-requests/(?P<request_id>[0-9a-fA-F-]{36})$": "closed with 4404",
}


def test_every_socket_route_has_a_rule() -> None:
    assert {str(route.pattern) for route in websocket_urlpatterns} == set(SOCKET_RULES)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_dispatcher")
def test_a_socket_of_another_tenant_neither_reaches_nor_watches_its_objects(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    ids = objects_of(tenant)
    step_run = StepRun.objects.filter(tenant=tenant).first()
    assert step_run is not None
    watched = {
        "runs": ids["source_run"],
        "playground/compare": str(
            Comparison.objects.filter(tenant=tenant).earliest("created_at").pk
        ),
        "playground/pull-requests": str(PullRequestRequest.objects.get(tenant=tenant).pk),
    }
    before = tenant_rows(tenant)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
        worker = await open_socket(other_tenant, "/ws/worker")
        await worker.send_json_to(
            {"type": "register", "name": "b", "actions": ["Support:draft"], "slots": 1}
        )
        assert (await worker.receive_json_from(timeout=5))["type"] == "registered"
        await worker.send_json_to(
            {
                "type": "step.completed",
                "id": "steal",
                "step_run_id": str(step_run.pk),
                "attempt": step_run.attempt,
                "output": {"stolen": True},
            }
        )
        report = await worker.receive_json_from(timeout=5)
        await worker.disconnect()
        client = await open_socket(other_tenant, "/ws/client")
        await client.send_json_to({"type": "run.trigger", "id": "t", "workflow": "Support"})
        trigger = await client.receive_json_from(timeout=5)
        await client.disconnect()
        closes = []
        for route, object_id in watched.items():
            live = await open_socket(other_tenant, f"/ws/{route}/{object_id}")
            closes.append(await live.receive_output(timeout=5))
        return report, trigger, closes

    report, trigger, closes = async_to_sync(scenario)()

    assert report == {
        "type": "error",
        "code": "unknown_step_run",
        "message": "Unknown step run.",
        "id": "steal",
    }
    assert (trigger["status"], trigger["error"]["code"]) == (404, "not_found")
    assert closes == [{"type": "websocket.close", "code": 4404}] * 3
    assert tenant_rows(tenant) == before
