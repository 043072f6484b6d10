"""History retention: which finished runs and events go, which stay, in bounded batches,
archived to JSONL first when asked, and never twice by concurrent passes."""

import json
import os
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from hatchet.models import Tenant
from playground.models import Dataset, DatasetRow, PlaygroundRun
from tests.factories import register, start_run
from workflows.engine import retention
from workflows.engine.retention import prune_history, prune_tenant
from workflows.models import (
    DurableWait,
    Event,
    IdempotencyKey,
    StepRun,
    StepRunAttempt,
    StepRunLine,
    WorkflowRun,
    WorkflowRunStatus,
)

NOW = timezone.now()
LONG_AGO = NOW - timedelta(days=40)
LATELY = NOW - timedelta(days=2)


@pytest.fixture
def tenant(tenant: Tenant) -> Tenant:
    tenant.retention_days = 30
    tenant.save()
    register(tenant)
    return tenant


def finished_run(
    tenant: Tenant,
    finished_at: datetime | None,
    status: str = WorkflowRunStatus.SUCCEEDED,
    **fields: Any,
) -> WorkflowRun:
    """A run of Chain that began an hour before `finished_at` (None: still running), its
    first step run with an attempt, a log line, a stream chunk and a durable wait."""
    run = start_run(tenant, **fields)
    began = (finished_at or LONG_AGO) - timedelta(hours=1)
    WorkflowRun.objects.filter(pk=run.pk).update(
        status=status, created_at=began, finished_at=finished_at, deadline=None
    )
    step_run = run.step_runs.order_by("created_at").first()
    assert step_run is not None
    StepRunAttempt.objects.create(step_run=step_run, number=1, status="SUCCEEDED")
    StepRunLine.objects.create(step_run=step_run, attempt=1, kind="log", seq=0, text="hello")
    StepRunLine.objects.create(step_run=step_run, attempt=1, kind="stream", seq=0, text="tok")
    DurableWait.objects.create(
        tenant=tenant, step_run=step_run, ordinal=0, kind="sleep", spec={"seconds": 1}
    )
    run.refresh_from_db()
    return run


def child_of(parent: WorkflowRun, finished_at: datetime | None) -> WorkflowRun:
    status = WorkflowRunStatus.SUCCEEDED if finished_at else WorkflowRunStatus.RUNNING
    child = finished_run(parent.tenant, finished_at, status)
    step_run = parent.step_runs.order_by("created_at").first()
    WorkflowRun.objects.filter(pk=child.pk).update(parent_step_run=step_run, spawn_key="k")
    child.refresh_from_db()
    return child


def remaining(tenant: Tenant) -> set[Any]:
    return set(WorkflowRun.objects.filter(tenant=tenant).values_list("id", flat=True))


def test_finished_runs_older_than_the_period_go_with_everything_that_hangs_off_them(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    old = [
        finished_run(tenant, LONG_AGO, status)
        for status in (
            WorkflowRunStatus.SUCCEEDED,
            WorkflowRunStatus.FAILED,
            WorkflowRunStatus.CANCELLED,
        )
    ]
    IdempotencyKey.objects.create(tenant=tenant, scope="run", key="once", run=old[0])
    recent = finished_run(tenant, LATELY)
    still_running = finished_run(tenant, None, WorkflowRunStatus.RUNNING)
    register(other_tenant)
    elsewhere = finished_run(other_tenant, LONG_AGO)

    pruned = prune_history(now=NOW)

    assert (pruned.runs, pruned.events, pruned.files) == (3, 0, [])
    assert remaining(tenant) == {recent.id, still_running.id}
    assert remaining(other_tenant) == {elsewhere.id}
    gone = [run.id for run in old]
    assert not StepRun.objects.filter(workflow_run_id__in=gone).exists()
    left = {
        model.__name__: model.objects.filter(step_run__workflow_run__tenant=tenant).count()
        for model in (StepRunAttempt, StepRunLine, DurableWait)
    }
    assert left == {"StepRunAttempt": 2, "StepRunLine": 4, "DurableWait": 2}
    assert not IdempotencyKey.objects.exists()


def test_events_older_than_the_period_go_unless_a_remaining_run_was_triggered_by_them(
    tenant: Tenant,
) -> None:
    old, recent, triggering = (
        Event.objects.create(tenant=tenant, key="k", created_at=at)
        for at in (LONG_AGO, LATELY, LONG_AGO)
    )
    WorkflowRun.objects.filter(pk=finished_run(tenant, LATELY).pk).update(event=triggering)

    assert prune_history(now=NOW).events == 1

    assert set(Event.objects.values_list("id", flat=True)) == {recent.id, triggering.id}
    assert old.id not in set(Event.objects.values_list("id", flat=True))


def test_a_parent_with_an_unfinished_child_is_kept_and_a_finished_family_goes_together(
    tenant: Tenant,
) -> None:
    waiting_parent = finished_run(tenant, LONG_AGO)
    running_child = child_of(waiting_parent, None)
    grandparent = finished_run(tenant, LONG_AGO)
    parent = child_of(grandparent, LONG_AGO)
    # Finished lately, but goes with its family: it is no root of its own.
    grandchild = child_of(parent, LATELY)
    lone_child = child_of(finished_run(tenant, LATELY), LONG_AGO)

    pruned = prune_history(now=NOW)

    assert pruned.runs == 3
    assert grandchild.id not in remaining(tenant)
    assert remaining(tenant) == {
        waiting_parent.id,
        running_child.id,
        lone_child.id,
        lone_child.parent_step_run.workflow_run_id,  # type: ignore[union-attr]
    }


def test_runs_the_playground_points_at_are_kept(tenant: Tenant) -> None:
    cell, replayed, dataset_source, deletable = (finished_run(tenant, LONG_AGO) for _ in range(4))
    PlaygroundRun.objects.create(run=cell, tenant=tenant, kind="replay", source_run=replayed)
    dataset = Dataset.objects.create(tenant=tenant, workflow=cell.workflow, name="d")
    DatasetRow.objects.create(dataset=dataset, source_run=dataset_source)
    parent_of_cell = finished_run(tenant, LONG_AGO)
    WorkflowRun.objects.filter(pk=cell.pk).update(
        parent_step_run=parent_of_cell.step_runs.first(), spawn_key="k"
    )

    assert prune_history(now=NOW).runs == 1

    assert remaining(tenant) == {cell.id, replayed.id, dataset_source.id, parent_of_cell.id}
    assert deletable.id not in remaining(tenant)


def test_the_period_is_the_tenants_else_the_settings_and_zero_keeps_forever(
    tenant: Tenant, other_tenant: Tenant, settings: Any
) -> None:
    register(other_tenant)
    third = Tenant.objects.create(slug="initech", name="Initech", retention_days=0)
    register(third)
    for each in (tenant, other_tenant, third):
        finished_run(each, NOW - timedelta(days=10))
    settings.HATCHET_RETENTION_DAYS = 7

    assert prune_history(now=NOW).runs == 1

    assert remaining(other_tenant) == set()
    assert len(remaining(tenant)) == 1
    assert len(remaining(third)) == 1
    settings.HATCHET_RETENTION_DAYS = 0
    tenant.retention_days = None
    tenant.save()
    assert prune_history(now=NOW).runs == 0


def test_batches_are_bounded_in_size_and_number(tenant: Tenant) -> None:
    runs = [finished_run(tenant, LONG_AGO - timedelta(minutes=i)) for i in range(5)]
    events = [Event.objects.create(tenant=tenant, key="k", created_at=LONG_AGO) for _ in range(5)]

    pruned = prune_tenant(tenant, NOW, max_batches=2, batch_size=2)

    assert (pruned.runs, pruned.events) == (4, 4)
    # The oldest first.
    assert remaining(tenant) == {runs[0].id}
    assert Event.objects.count() == 1
    assert len(events) == 5
    assert prune_tenant(tenant, NOW, max_batches=2, batch_size=2).runs == 1


def test_a_dry_run_counts_what_would_go_and_changes_nothing(
    tenant: Tenant, settings: Any, tmp_path: Path
) -> None:
    settings.HATCHET_RETENTION_ARCHIVE_DIR = str(tmp_path)
    kept = {finished_run(tenant, LONG_AGO).id for _ in range(3)}
    Event.objects.create(tenant=tenant, key="k", created_at=LONG_AGO)

    pruned = prune_tenant(tenant, NOW, dry_run=True, batch_size=2)

    assert (pruned.runs, pruned.events, pruned.files) == (3, 1, [])
    assert remaining(tenant) == kept
    assert Event.objects.count() == 1
    assert list(tmp_path.iterdir()) == []


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_batch_is_archived_as_jsonl_before_it_is_deleted(
    tenant: Tenant, settings: Any, tmp_path: Path
) -> None:
    settings.HATCHET_RETENTION_ARCHIVE_DIR = str(tmp_path)
    parent = finished_run(tenant, LONG_AGO)
    child = child_of(parent, LONG_AGO)
    event = Event.objects.create(tenant=tenant, key="ticket:created", created_at=LONG_AGO)

    pruned = prune_tenant(tenant, NOW)

    runs_file, events_file = pruned.files
    assert runs_file.parent == tmp_path / "acme"
    assert runs_file.name.startswith("runs-")
    assert runs_file.suffix == ".jsonl"
    lines = {line["run"]["id"]: line for line in read_lines(runs_file)}
    assert set(lines) == {str(parent.id), str(child.id)}
    first = lines[str(parent.id)]
    assert first["run"]["status"] == "SUCCEEDED"
    assert first["run"]["input"] == {"ticket": 1}
    step_runs = sorted(first["step_runs"], key=lambda s: s["action"])
    assert [s["action"] for s in step_runs] == ["Chain:a", "Chain:b", "Chain:c"]
    (step_run,) = (s for s in step_runs if s["attempts"])
    assert [(a["number"], a["status"]) for a in step_run["attempts"]] == [(1, "SUCCEEDED")]
    assert [(line["kind"], line["text"]) for line in step_run["lines"]] == [
        ("log", "hello"),
        ("stream", "tok"),
    ]
    assert [w["spec"] for w in step_run["waits"]] == [{"seconds": 1}]
    assert lines[str(child.id)]["run"]["parent_step_run_id"] in {s["id"] for s in step_runs}
    (event_line,) = read_lines(events_file)
    assert event_line["event"]["id"] == str(event.id)
    assert event_line["event"]["key"] == "ticket:created"
    assert remaining(tenant) == set()
    assert sorted(p.name for p in (tmp_path / "acme").iterdir()) == sorted(
        [runs_file.name, events_file.name]
    )


def test_when_the_archive_cannot_be_written_nothing_is_deleted(
    tenant: Tenant, settings: Any, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    settings.HATCHET_RETENTION_ARCHIVE_DIR = str(blocked)
    run = finished_run(tenant, LONG_AGO)

    with pytest.raises(NotADirectoryError):
        prune_tenant(tenant, NOW)

    assert remaining(tenant) == {run.id}
    assert StepRunLine.objects.filter(step_run__workflow_run=run).count() == 2


def test_a_failed_fsync_deletes_nothing_and_leaves_no_file(
    tenant: Tenant, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HATCHET_RETENTION_ARCHIVE_DIR = str(tmp_path)
    run = finished_run(tenant, LONG_AGO)

    def fail(_descriptor: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        prune_tenant(tenant, NOW)

    assert remaining(tenant) == {run.id}
    assert list((tmp_path / "acme").iterdir()) == []


def test_prune_history_command_for_one_tenant_with_a_dry_run(
    tenant: Tenant, other_tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    finished_run(tenant, LONG_AGO)
    other_tenant.retention_days = 1
    other_tenant.save()
    register(other_tenant)
    elsewhere = finished_run(other_tenant, LONG_AGO)

    call_command("prune_history", "--tenant", "acme", "--dry-run")
    assert capsys.readouterr().out == "would delete 1 runs and 0 events\n"
    assert len(remaining(tenant)) == 1

    call_command("prune_history", "--tenant", "acme")
    assert capsys.readouterr().out == "deleted 1 runs and 0 events\n"
    assert remaining(tenant) == set()
    assert remaining(other_tenant) == {elsewhere.id}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_passes_take_different_runs_and_never_wait_on_each_other(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HATCHET_RETENTION_ARCHIVE_DIR = str(tmp_path)
    acme = Tenant.objects.create(slug="acme", name="Acme", retention_days=30)
    register(acme)
    runs = {finished_run(acme, LONG_AGO - timedelta(minutes=i)).id for i in range(6)}
    second_done = threading.Event()
    first_in_batch = threading.Event()
    archive = retention.archive

    def archive_then_wait(tenant: Tenant, kind: str, lines: Any) -> Path:
        # The first pass holds its batch's locks until the second has finished.
        path = archive(tenant, kind, lines)
        if threading.current_thread().name == "first":
            first_in_batch.set()
            second_done.wait(timeout=10)
        return path

    monkeypatch.setattr(retention, "archive", archive_then_wait)
    files: dict[str, list[Path]] = {}

    def one_pass(name: str) -> None:
        try:
            files[name] = prune_tenant(acme, NOW, max_batches=1, batch_size=3).files
        finally:
            connection.close()

    first = threading.Thread(target=one_pass, args=("first",), name="first")
    first.start()
    assert first_in_batch.wait(timeout=10)
    second = threading.Thread(target=one_pass, args=("second",), name="second")
    second.start()
    second.join(timeout=10)
    second_finished_first = not second.is_alive()
    second_done.set()
    first.join()
    second.join()

    assert second_finished_first
    archived = [
        [line["run"]["id"] for line in read_lines(path)]
        for name in ("first", "second")
        for path in files[name]
    ]
    assert len(archived) == 2
    assert sorted(archived[0] + archived[1]) == sorted(str(id) for id in runs)
    assert not WorkflowRun.objects.exists()


def test_the_periodic_pass_takes_at_most_the_settings_batches_per_tenant(
    tenant: Tenant, settings: Any
) -> None:
    settings.HATCHET_RETENTION_BATCH_SIZE = 1
    settings.HATCHET_RETENTION_MAX_BATCHES = 2
    for _ in range(3):
        finished_run(tenant, LONG_AGO)

    assert retention.prune_history_pass() == {
        "history_runs_deleted": 2,
        "history_events_deleted": 0,
    }
    assert len(remaining(tenant)) == 1
