"""The engine's state machine, function by function, on the real database."""

import time
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from hatchet.errors import InvalidRequest, NotFound
from hatchet.models import Tenant
from tests.factories import SignalCapture, definition
from workflows.engine import maintenance, results
from workflows.engine.definitions import register_workflow
from workflows.engine.maintenance import Heard
from workflows.engine.queue import Assignment, claim_queued_step_runs
from workflows.engine.replays import replay_workflow_run
from workflows.engine.runs import cancel_workflow_run, retry_workflow_run, trigger_workflow_run
from workflows.models import StepRun, WorkflowRun
from workflows.signals import StepStop, step_runs_queued, step_runs_stopped

pytestmark = pytest.mark.django_db

WORKER = uuid.UUID("00000000-0000-4000-8000-000000000001")
DIAMOND = [
    {"name": "root"},
    {"name": "left", "parents": ["root"]},
    {"name": "right", "parents": ["root"]},
    {"name": "join", "parents": ["left", "right"]},
]


@pytest.fixture
def stops(capture_signal: SignalCapture) -> list[StepStop]:
    return capture_signal(step_runs_stopped, "stops", many=True)


def claim(
    tenant: Tenant, actions: list[str], slots: int = 10, worker: uuid.UUID = WORKER
) -> list[Assignment]:
    return claim_queued_step_runs(
        tenant_id=tenant.id, worker_id=worker, worker_name="w", actions=actions, slots=slots
    )


def statuses(run: WorkflowRun) -> dict[str, str]:
    return {s.step.name: s.status for s in run.step_runs.select_related("step")}


def run_step(tenant: Tenant, assignment: Assignment, output: Any = None) -> None:
    ref = (tenant.id, assignment.step_run_id, assignment.attempt, WORKER)
    assert results.record_step_started(*ref)
    assert results.record_step_completed(*ref, output)


def test_trigger_queues_only_the_root_steps(
    tenant: Tenant, django_capture_on_commit_callbacks: Any, capture_signal: SignalCapture
) -> None:
    register_workflow(tenant, definition("Diamond", DIAMOND))
    woken = capture_signal(step_runs_queued, "actions")

    with django_capture_on_commit_callbacks(execute=True):
        run = trigger_workflow_run(tenant, "Diamond", {"q": 1}, additional_metadata={"k": "v"})

    assert run.status == "PENDING"
    assert statuses(run) == {
        "root": "QUEUED",
        "left": "PENDING",
        "right": "PENDING",
        "join": "PENDING",
    }
    assert woken == [{"Diamond:root"}]


def test_trigger_refuses_unknown_workflows_and_steps(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Diamond", DIAMOND))

    with pytest.raises(NotFound, match=r"Workflow 'Nope' is not registered\."):
        trigger_workflow_run(tenant, "Nope", {})
    with pytest.raises(InvalidRequest, match="unknown step"):
        trigger_workflow_run(tenant, "Diamond", {}, overrides={"ghost": {"x": 1}})


def test_children_wait_for_all_parents_and_get_their_outputs(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Diamond", DIAMOND))
    run = trigger_workflow_run(tenant, "Diamond", {"q": 1}, overrides={"left": {"prompt": "hi"}})
    actions = [f"Diamond:{n}" for n in ("root", "left", "right", "join")]

    [root] = claim(tenant, actions)
    assert (root.step, root.attempt, root.input, root.parents) == ("root", 1, {"q": 1}, {})
    run_step(tenant, root, {"r": 1})
    left, right = sorted(claim(tenant, actions), key=lambda a: a.step)
    assert left.parents == {"root": {"r": 1}}
    assert left.overrides == {"prompt": "hi"}
    assert right.overrides == {}
    run_step(tenant, left, "L")
    assert statuses(run)["join"] == "PENDING"
    run_step(tenant, right, "R")
    [join] = claim(tenant, actions)
    assert join.parents == {"left": "L", "right": "R"}
    run_step(tenant, join, "done")

    run.refresh_from_db()
    assert run.status == "SUCCEEDED"
    assert run.started_at is not None
    assert run.finished_at is not None


def test_a_result_is_applied_once_and_only_for_the_current_attempt(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    trigger_workflow_run(tenant, "One", {})
    [assignment] = claim(tenant, ["One:only"])
    ref = (tenant.id, assignment.step_run_id)

    assert not results.record_step_started(*ref, 2, WORKER)
    assert not results.record_step_started(*ref, 1, uuid.uuid4())
    assert results.record_step_started(*ref, 1, WORKER)
    assert not results.record_step_started(*ref, 1, WORKER)
    assert results.record_step_completed(*ref, 1, WORKER, {"v": 1})
    assert not results.record_step_completed(*ref, 1, WORKER, {"v": 2})
    assert not results.record_step_failed(*ref, 1, WORKER, "late")
    assert StepRun.objects.get(pk=assignment.step_run_id).output == {"v": 1}


def test_a_result_without_step_started_records_the_start_too(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    run = trigger_workflow_run(tenant, "One", {})
    [assignment] = claim(tenant, ["One:only"])

    assert results.record_step_completed(tenant.id, assignment.step_run_id, 1, WORKER, {"v": 1})

    step_run = StepRun.objects.get(pk=assignment.step_run_id)
    [attempt] = step_run.attempts.all()
    assert (step_run.status, attempt.status) == ("SUCCEEDED", "SUCCEEDED")
    assert step_run.started_at is not None
    assert attempt.started_at is not None
    run.refresh_from_db()
    assert (run.status, run.started_at is not None) == ("SUCCEEDED", True)


def test_a_short_steps_start_is_the_workers_own_start_time(tenant: Tenant) -> None:
    """A step that sends its result alone records its start with it: by the worker's
    clock, held within the time it was assigned and now."""
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    trigger_workflow_run(tenant, "One", {})
    trigger_workflow_run(tenant, "One", {})
    short, skewed = claim(tenant, ["One:only"])
    assigned = StepRun.objects.get(pk=short.step_run_id).attempts.get().assigned_at
    began = assigned + timedelta(milliseconds=3)
    # The worker's clock reads a time past, as it does when its result arrives: a start
    # later than the server's now is taken for a skewed clock.
    time.sleep(0.01)

    for assignment, worker_clock in ((short, began), (skewed, assigned - timedelta(hours=1))):
        report = results.Report(
            results.COMPLETED, assignment.step_run_id, 1, output={}, started_at=worker_clock
        )
        assert results.apply_reports(tenant.id, WORKER, [report]) == [True]

    step_run = StepRun.objects.get(pk=short.step_run_id)
    attempt = step_run.attempts.get()
    assert step_run.started_at == attempt.started_at == began
    assert step_run.finished_at is not None
    assert step_run.finished_at > began
    skewed_run = StepRun.objects.get(pk=skewed.step_run_id)
    assert skewed_run.started_at == skewed_run.attempts.get().assigned_at


def test_another_tenants_step_run_is_unknown(tenant: Tenant, other_tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    trigger_workflow_run(tenant, "One", {})
    [assignment] = claim(tenant, ["One:only"])

    with pytest.raises(NotFound):
        results.record_step_started(other_tenant.id, assignment.step_run_id, 1, WORKER)
    assert claim(other_tenant, ["One:only"]) == []


def test_failures_retry_with_exponential_backoff_then_fail_the_run(tenant: Tenant) -> None:
    steps = [
        {"name": "flaky", "retries": 2, "backoff": {"initial": "2s", "factor": 3, "max": "5s"}},
        {"name": "after", "parents": ["flaky"]},
    ]
    register_workflow(tenant, definition("Flaky", steps))
    run = trigger_workflow_run(tenant, "Flaky", {})
    delays = []
    for attempt in (1, 2, 3):
        StepRun.objects.filter(step__name="flaky").update(available_at=timezone.now())
        [assignment] = claim(tenant, ["Flaky:flaky"])
        assert assignment.attempt == attempt
        assert assignment.retry_count == attempt - 1
        ref = (tenant.id, assignment.step_run_id, attempt, WORKER)
        results.record_step_started(*ref)
        before = timezone.now()
        assert results.record_step_failed(*ref, f"E{attempt}", "Traceback ...")
        flaky = StepRun.objects.get(pk=assignment.step_run_id)
        if flaky.status == "QUEUED" and flaky.available_at is not None:
            delays.append(round((flaky.available_at - before).total_seconds()))

    run.refresh_from_db()
    assert delays == [2, 5]
    assert statuses(run) == {"flaky": "FAILED", "after": "CANCELLED"}
    assert run.status == "FAILED"
    assert run.error == "Step 'flaky' failed: E3"
    attempts = list(flaky.attempts.values_list("number", "status", "error", "traceback"))
    assert attempts == [
        (1, "FAILED", "E1", "Traceback ..."),
        (2, "FAILED", "E2", "Traceback ..."),
        (3, "FAILED", "E3", "Traceback ..."),
    ]


def test_a_non_retryable_failure_does_not_retry(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only", "retries": 5}]))
    run = trigger_workflow_run(tenant, "One", {})
    [a] = claim(tenant, ["One:only"])

    results.record_step_failed(tenant.id, a.step_run_id, 1, WORKER, "bad output", retryable=False)

    run.refresh_from_db()
    assert run.status == "FAILED"


def test_running_past_the_deadline_times_out_and_tells_the_worker(
    tenant: Tenant, stops: list[StepStop], django_capture_on_commit_callbacks: Any
) -> None:
    register_workflow(tenant, definition("One", [{"name": "only", "timeout": "1s"}]))
    run = trigger_workflow_run(tenant, "One", {})
    [a] = claim(tenant, ["One:only"])
    results.record_step_started(tenant.id, a.step_run_id, 1, WORKER)

    with django_capture_on_commit_callbacks(execute=True):
        counts = maintenance.run_deadlines(timezone.now() + timedelta(seconds=2))

    assert counts["running_timed_out"] == 1
    step_run = StepRun.objects.get(pk=a.step_run_id)
    assert (step_run.status, step_run.error) == ("TIMED_OUT", "timed out after 1s")
    assert step_run.attempts.get().status == "TIMED_OUT"
    assert stops == [StepStop(WORKER, a.step_run_id, 1, "timed_out")]
    run.refresh_from_db()
    assert run.status == "FAILED"


def test_refreshing_the_timeout_moves_the_deadline(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only", "timeout": "1s"}]))
    trigger_workflow_run(tenant, "One", {})
    [a] = claim(tenant, ["One:only"])
    results.record_step_started(tenant.id, a.step_run_id, 1, WORKER)

    assert results.refresh_step_timeout(tenant.id, a.step_run_id, 1, WORKER, 60)
    counts = maintenance.run_deadlines(timezone.now() + timedelta(seconds=30))

    assert counts["running_timed_out"] == 0
    assert StepRun.objects.get(pk=a.step_run_id).status == "RUNNING"


def test_queued_too_long_times_out(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}], schedule_timeout="10s"))
    run = trigger_workflow_run(tenant, "One", {})

    maintenance.run_deadlines(timezone.now() + timedelta(seconds=11))

    step_run = run.step_runs.get()
    assert step_run.status == "TIMED_OUT"
    assert "schedule timeout" in step_run.error
    run.refresh_from_db()
    assert run.status == "FAILED"


def test_assignments_never_started_go_back_to_the_queue(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    trigger_workflow_run(tenant, "One", {})
    [a] = claim(tenant, ["One:only"])
    later = timezone.now() + timedelta(minutes=5)
    deadline = StepRun.objects.get(pk=a.step_run_id).deadline
    assert deadline is not None

    second = timedelta(seconds=1)
    before, after = deadline - second, deadline + second
    # A worker not heard from since the deadline may have started it, unable to say so.
    silent = {WORKER: Heard(before - second, before)}
    assert maintenance.requeue_unstarted_assignments(later, silent) == 0
    assert maintenance.requeue_unstarted_assignments(later, {}) == 0
    # Back just after the deadline: the start it re-sends from its outbox may be on the way.
    back = {WORKER: Heard(after, after)}
    assert maintenance.requeue_unstarted_assignments(after + second, back) == 0
    # Heard on a connection open across the deadline: it never got the assignment.
    heard = {WORKER: Heard(before, after)}
    requeued = maintenance.requeue_unstarted_assignments(later, heard)

    step_run = StepRun.objects.get(pk=a.step_run_id)
    assert requeued == 1
    assert (step_run.status, step_run.worker_id, step_run.requeue_count) == ("QUEUED", None, 1)
    StepRun.objects.filter(pk=a.step_run_id).update(available_at=timezone.now())
    [again] = claim(tenant, ["One:only"])
    assert again.attempt == 2
    assert again.retry_count == 0


def test_step_runs_of_a_gone_worker_are_requeued_without_spending_retries(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    trigger_workflow_run(tenant, "One", {})
    [a] = claim(tenant, ["One:only"])
    results.record_step_started(tenant.id, a.step_run_id, 1, WORKER)

    assert maintenance.requeue_step_runs_of_workers([WORKER], "worker lost") == 1

    step_run = StepRun.objects.get(pk=a.step_run_id)
    assert (step_run.status, step_run.retry_count) == ("QUEUED", 0)
    assert step_run.attempts.get().error == "worker lost"


def test_cancel_stops_running_steps_and_cancels_the_rest(
    tenant: Tenant, stops: list[StepStop], django_capture_on_commit_callbacks: Any
) -> None:
    register_workflow(tenant, definition("Diamond", DIAMOND))
    run = trigger_workflow_run(tenant, "Diamond", {})
    [root] = claim(tenant, ["Diamond:root"])
    results.record_step_started(tenant.id, root.step_run_id, 1, WORKER)

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = cancel_workflow_run(tenant, run.id)

    assert cancelled.status == "CANCELLED"
    assert set(statuses(run).values()) == {"CANCELLED"}
    assert stops == [StepStop(WORKER, root.step_run_id, 1, "cancelled")]
    assert not results.record_step_completed(tenant.id, root.step_run_id, 1, WORKER, "late")
    assert cancel_workflow_run(tenant, run.id).status == "CANCELLED"


def test_log_lines_are_stored_once(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    trigger_workflow_run(tenant, "One", {})
    [a] = claim(tenant, ["One:only"])

    assert results.append_step_run_line(tenant.id, a.step_run_id, 1, "log", 0, "hello", "info")
    assert not results.append_step_run_line(tenant.id, a.step_run_id, 1, "log", 0, "hello", "info")
    assert results.append_step_run_line(tenant.id, a.step_run_id, 1, "stream", 0, "tok")

    lines = StepRun.objects.get(pk=a.step_run_id).lines.values_list("kind", "seq", "text")
    assert sorted(lines) == [("log", 0, "hello"), ("stream", 0, "tok")]


def test_a_worker_writes_lines_only_into_the_attempts_it_was_given(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    trigger_workflow_run(tenant, "One", {})
    [a] = claim(tenant, ["One:only"])
    intruder = uuid.uuid4()
    lines = [
        results.Line(a.step_run_id, 1, "log", 0, "not mine"),
        results.Line(a.step_run_id, 1, "stream", 1, "nor this"),
    ]

    assert results.apply_reports_and_lines(tenant.id, intruder, lines) == [False, False]
    assert not StepRun.objects.get(pk=a.step_run_id).lines.exists()
    assert results.apply_reports_and_lines(tenant.id, WORKER, lines) == [True, True]
    # Nor into another attempt of a step run it holds.
    other_attempt = replace(lines[0], attempt=2, seq=5)
    assert results.apply_reports_and_lines(tenant.id, WORKER, [other_attempt]) == [False]


def test_a_result_after_the_deadline_loses_to_the_timeout(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only", "timeout": "1s"}]))
    run = trigger_workflow_run(tenant, "One", {})
    [a] = claim(tenant, ["One:only"])
    results.record_step_started(tenant.id, a.step_run_id, 1, WORKER)
    StepRun.objects.filter(pk=a.step_run_id).update(
        deadline=timezone.now() - timedelta(milliseconds=1)
    )

    assert results.record_step_completed(tenant.id, a.step_run_id, 1, WORKER, "late")

    step_run = StepRun.objects.get(pk=a.step_run_id)
    assert (step_run.status, step_run.output) == ("TIMED_OUT", None)
    run.refresh_from_db()
    assert run.status == "FAILED"


def test_a_worker_reporting_its_own_timeout_times_the_attempt_out(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only", "timeout": "1s"}]))
    run = trigger_workflow_run(tenant, "One", {})
    [a] = claim(tenant, ["One:only"])
    results.record_step_started(tenant.id, a.step_run_id, 1, WORKER)

    [applied] = results.apply_reports(
        tenant.id,
        WORKER,
        [results.Report(results.FAILED, a.step_run_id, 1, error="timed out", timed_out=True)],
    )

    step_run = StepRun.objects.get(pk=a.step_run_id)
    assert applied
    assert (step_run.status, step_run.error) == ("TIMED_OUT", "timed out after 1s")
    run.refresh_from_db()
    assert run.status == "FAILED"


def test_a_trigger_right_after_a_new_version_registers_starts_that_version(
    tenant: Tenant,
) -> None:
    register_workflow(tenant, definition("Grows", [{"name": "first"}]))
    assert trigger_workflow_run(tenant, "Grows", {}).version.number == 1

    register_workflow(tenant, definition("Grows", [{"name": "first"}, {"name": "second"}]))
    run = trigger_workflow_run(tenant, "Grows", {})

    assert run.version.number == 2
    assert statuses(run) == {"first": "QUEUED", "second": "QUEUED"}


def assert_deadline_exactly_while_open() -> None:
    """The partial indexes and the held-slot count (HELD_STEP_RUNS) rely on it."""
    for status, deadline in StepRun.objects.values_list("status", "deadline"):
        assert (deadline is not None) == (status in {"QUEUED", "ASSIGNED", "RUNNING"}), status


def test_a_step_run_has_a_deadline_exactly_while_it_is_open(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Diamond", DIAMOND))
    register_workflow(tenant, definition("Flaky", [{"name": "flaky", "retries": 1}]))
    done = trigger_workflow_run(tenant, "Diamond", {})
    flaky = trigger_workflow_run(tenant, "Flaky", {})
    cancelled = trigger_workflow_run(tenant, "Diamond", {})
    assert_deadline_exactly_while_open()

    [root] = [a for a in claim(tenant, ["Diamond:root"]) if a.workflow_run_id == done.id]
    assert_deadline_exactly_while_open()
    ref = (tenant.id, root.step_run_id, root.attempt, WORKER)
    assert results.record_step_started(*ref)
    assert_deadline_exactly_while_open()
    assert results.record_step_completed(*ref, None)
    assert_deadline_exactly_while_open()

    [attempt] = claim(tenant, ["Flaky:flaky"])
    ref = (tenant.id, attempt.step_run_id, attempt.attempt, WORKER)
    assert results.record_step_failed(*ref, "E1", "")
    assert_deadline_exactly_while_open()

    cancel_workflow_run(tenant, cancelled.id)
    assert_deadline_exactly_while_open()
    for assignment in claim(tenant, ["Diamond:left", "Diamond:right"]):
        run_step(tenant, assignment)
    [join] = claim(tenant, ["Diamond:join"])
    run_step(tenant, join)
    assert_deadline_exactly_while_open()

    done.refresh_from_db()
    flaky.refresh_from_db()
    assert done.status == "SUCCEEDED"
    assert done.deadline is None
    assert StepRun.objects.get(pk=attempt.step_run_id).status == "QUEUED"


HANDLED = [
    {"name": "charge", "retries": 1, "backoff": {"initial": "1ms"}},
    {"name": "receipt", "parents": ["charge"]},
    {"name": "side"},
    {"name": "notify", "on_failure": True},
]


def fail_for_good(tenant: Tenant, action: str, error: str) -> Assignment:
    """Fail every attempt of the step until its retries are spent; the last one."""
    while True:
        StepRun.objects.filter(action=action).update(available_at=timezone.now())
        [a] = claim(tenant, [action])
        ref = (tenant.id, a.step_run_id, a.attempt, WORKER)
        assert results.record_step_started(*ref)
        assert results.record_step_failed(*ref, error, "Traceback ...")
        if StepRun.objects.get(pk=a.step_run_id).status == "FAILED":
            return a


def test_the_on_failure_step_runs_after_a_step_fails_for_good_and_then_the_run_fails(
    tenant: Tenant, stops: list[StepStop], django_capture_on_commit_callbacks: Any
) -> None:
    register_workflow(tenant, definition("Handled", HANDLED, timeout="1h"))
    run = trigger_workflow_run(tenant, "Handled", {})
    assert statuses(run)["notify"] == "PENDING"
    [side] = claim(tenant, ["Handled:side"])
    results.record_step_started(tenant.id, side.step_run_id, 1, WORKER)

    with django_capture_on_commit_callbacks(execute=True):
        fail_for_good(tenant, "Handled:charge", "CardDeclined: no funds")

    run.refresh_from_db()
    assert statuses(run) == {
        "charge": "FAILED",
        "receipt": "CANCELLED",
        "side": "CANCELLED",
        "notify": "QUEUED",
    }
    assert stops == [StepStop(WORKER, side.step_run_id, 1, "cancelled")]
    # The run waits for its on-failure step, holding the failure, with no run deadline.
    assert (run.status, run.error, run.deadline) == (
        "RUNNING",
        "Step 'charge' failed: CardDeclined: no funds",
        None,
    )
    [handler] = claim(tenant, ["Handled:notify"])
    assert handler.as_message()["errors"] == {"charge": "CardDeclined: no funds"}
    assert "errors" not in side.as_message()
    run_step(tenant, handler, {"notified": True})

    run.refresh_from_db()
    assert (run.status, run.error) == ("FAILED", "Step 'charge' failed: CardDeclined: no funds")
    assert statuses(run)["notify"] == "SUCCEEDED"


def test_a_failing_on_failure_step_adds_its_error_and_a_succeeding_run_skips_it(
    tenant: Tenant,
) -> None:
    steps = [*HANDLED[:3], {"name": "notify", "on_failure": True, "retries": 0}]
    register_workflow(tenant, definition("Handled", steps))
    failing = trigger_workflow_run(tenant, "Handled", {})
    [side] = claim(tenant, ["Handled:side"])
    run_step(tenant, side)
    fail_for_good(tenant, "Handled:charge", "E")
    fail_for_good(tenant, "Handled:notify", "SMTPError: down")
    failing.refresh_from_db()
    assert (failing.status, failing.error) == (
        "FAILED",
        "Step 'charge' failed: E (then: Step 'notify' failed: SMTPError: down)",
    )

    fine = trigger_workflow_run(tenant, "Handled", {})
    for action in ("Handled:charge", "Handled:side", "Handled:receipt"):
        [a] = claim(tenant, [action])
        run_step(tenant, a)
    fine.refresh_from_db()
    assert fine.status == "SUCCEEDED"
    notify = fine.step_runs.get(step__name="notify")
    assert (notify.status, notify.error) == ("CANCELLED", "no step failed")


def test_a_run_timing_out_runs_its_on_failure_step(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Handled", HANDLED, timeout="1s"))
    run = trigger_workflow_run(tenant, "Handled", {})

    maintenance.run_deadlines(timezone.now() + timedelta(seconds=2))

    run.refresh_from_db()
    assert (run.status, run.error) == ("RUNNING", "Workflow run timed out after 1s.")
    assert statuses(run)["notify"] == "QUEUED"
    [handler] = claim(tenant, ["Handled:notify"])
    assert handler.as_message()["errors"] == {}
    run_step(tenant, handler)
    run.refresh_from_db()
    assert (run.status, run.error) == ("FAILED", "Workflow run timed out after 1s.")


def test_a_retried_run_waits_for_a_failure_again_and_no_replay_starts_at_the_handler(
    tenant: Tenant,
) -> None:
    register_workflow(tenant, definition("Handled", HANDLED))
    run = trigger_workflow_run(tenant, "Handled", {})
    fail_for_good(tenant, "Handled:charge", "E")
    [handler] = claim(tenant, ["Handled:notify"])
    run_step(tenant, handler)

    retry_workflow_run(tenant, run.pk)

    assert statuses(run) == {
        "charge": "QUEUED",
        "receipt": "PENDING",
        "side": "QUEUED",
        "notify": "PENDING",
    }
    with pytest.raises(InvalidRequest, match="'notify': it is the on-failure step"):
        replay_workflow_run(tenant, run.pk, from_step="notify")
