"""History retention: a tenant's finished workflow runs (with their step runs, attempts,
log lines, stream chunks, durable waits and child runs) and its events older than its
period are deleted, each batch in a short transaction of its own. With
HATCHET_RETENTION_ARCHIVE_DIR set, a batch is first written there as JSONL and fsync'd:
nothing is deleted that is not on disk.

Safe on many nodes at once: a batch locks the runs (or events) it takes with SKIP
LOCKED, so that concurrent passes take different ones and never wait on each other.
Kept whatever their age: a run rows of another app point at (`runs_referenced`, the
playground's comparisons and datasets), a run with a child run not finished (or kept),
and an event a kept run was triggered by."""

import json
import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from hatchet.models import Tenant
from workflows.models import (
    WORKFLOW_RUN_TERMINAL,
    DurableWait,
    Event,
    StepRun,
    StepRunAttempt,
    StepRunLine,
    WorkflowRun,
)
from workflows.signals import runs_referenced

M = TypeVar("M", bound=Model)
# The longest period a tenant may set: a century.
MAX_RETENTION_DAYS = 36500
# Where a batch starts: after the candidate with this (created_at, id); None: the first.
After = tuple[datetime, uuid.UUID] | None
# (model, field name) pairs: rows whose field points at a workflow run to keep.
References = list[tuple[type[Model], str]]


@dataclass
class Pruned:
    """What a pass deleted (or, dry, would delete), and the archive files it wrote."""

    runs: int = 0
    events: int = 0
    files: list[Path] = field(default_factory=list)

    def add(self, other: "Pruned") -> None:
        self.runs += other.runs
        self.events += other.events
        self.files += other.files

    def counts(self) -> dict[str, int]:
        return {"history_runs_deleted": self.runs, "history_events_deleted": self.events}


@dataclass
class Batch:
    """One batch's outcome: how many candidates it looked at (fewer than asked: the
    last), the ordering key of the last (where the next batch starts), what it pruned."""

    looked_at: int
    last: After
    pruned: Pruned


def set_retention_days(tenant: Tenant, days: int | None) -> Tenant:
    """The tenant's own period in days; None follows HATCHET_RETENTION_DAYS, 0 keeps its
    history forever."""
    tenant.retention_days = days
    tenant.save(update_fields=["retention_days"])
    return tenant


def tenants_keeping_history_for_a_period() -> QuerySet[Tenant]:
    """The tenants whose period is not forever."""
    if settings.HATCHET_RETENTION_DAYS > 0:
        return Tenant.objects.exclude(retention_days=0).order_by("slug")
    return Tenant.objects.filter(retention_days__gt=0).order_by("slug")


def prune_history(
    *,
    tenant: Tenant | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    max_batches: int | None = None,
) -> Pruned:
    """Delete the expired history of `tenant` (or of every tenant): at most
    `max_batches` batches of runs and as many of events per tenant (None: until none
    is left). `dry_run` counts what would go, deleting and writing nothing."""
    now = now or timezone.now()
    tenants = [tenant] if tenant is not None else tenants_keeping_history_for_a_period()
    pruned = Pruned()
    for each in tenants:
        pruned.add(prune_tenant(each, now, dry_run=dry_run, max_batches=max_batches))
    return pruned


def prune_history_pass() -> dict[str, int]:
    """The periodic pass: a bounded number of batches per tenant."""
    return prune_history(max_batches=settings.HATCHET_RETENTION_MAX_BATCHES).counts()


def prune_tenant(
    tenant: Tenant,
    now: datetime,
    *,
    dry_run: bool = False,
    max_batches: int | None = None,
    batch_size: int | None = None,
) -> Pruned:
    pruned = Pruned()
    days = tenant.effective_retention_days
    if days <= 0:
        return pruned
    cutoff = now - timedelta(days=days)
    size = batch_size or settings.HATCHET_RETENTION_BATCH_SIZE
    for prune_batch in (prune_run_batch, prune_event_batch):
        in_turn = batches(prune_batch, tenant, cutoff, size, dry_run)
        for number, batch in enumerate(in_turn, start=1):
            pruned.add(batch.pruned)
            if max_batches is not None and number >= max_batches:
                break
    return pruned


def batches(
    prune_batch: Callable[[Tenant, datetime, After, int, bool], Batch],
    tenant: Tenant,
    cutoff: datetime,
    size: int,
    dry_run: bool,
) -> Iterator[Batch]:
    """Batch after batch, each starting after the last one's last candidate (those it
    kept are not looked at again in this pass), until one comes back short."""
    after = None
    while True:
        batch = prune_batch(tenant, cutoff, after, size, dry_run)
        yield batch
        if batch.last is None:
            return
        after = batch.last


def after_key(queryset: QuerySet[M], after: After) -> QuerySet[M]:
    """The rows after `after` in (created_at, id) order, in that order."""
    if after is not None:
        created_at, id = after
        queryset = queryset.filter(
            Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=id)
        )
    return queryset.order_by("created_at", "id")


def referencing_fields() -> References:
    """The (model, field) pairs of other apps that point at runs to keep."""
    answers = runs_referenced.send(sender=None)
    return [pair for _, answer in answers for pair in cast(References, answer or [])]


def referenced(references: References) -> Q:
    """Runs some row of `references` points at; never true without references."""
    condition = Q(pk__in=[])
    for model, name in references:
        condition |= Q(Exists(model._default_manager.filter(**{name: OuterRef("pk")})))
    return condition


def expired_roots(
    tenant: Tenant, cutoff: datetime, references: References
) -> QuerySet[WorkflowRun]:
    """Finished runs that no run spawned, finished before the cutoff, that nothing keeps.
    Found through run_tenant_created: a run finished before the cutoff began before it."""
    return (
        WorkflowRun.objects.filter(
            tenant=tenant,
            created_at__lt=cutoff,
            finished_at__lt=cutoff,
            status__in=sorted(WORKFLOW_RUN_TERMINAL),
            parent_step_run__isnull=True,
        )
        .exclude(referenced(references))
        .only("id", "created_at")
    )


def families(root_ids: list[uuid.UUID], references: References, *, lock: bool) -> list[uuid.UUID]:
    """The roots whose every descendant run has finished and is not kept, with those
    descendants; the child runs are locked too, if asked."""
    root_of = {id: id for id in root_ids}
    kept_roots: set[uuid.UUID] = set()
    level = list(root_ids)
    while level:
        children = WorkflowRun.objects.filter(parent_step_run__workflow_run_id__in=level)
        if lock:
            children = children.select_for_update(of=("self",))
        rows = list(children.values_list("id", "parent_step_run__workflow_run_id", "status"))
        kept_children = (
            set(
                WorkflowRun.objects.filter(
                    referenced(references), id__in=[id for id, _, _ in rows]
                ).values_list("id", flat=True)
            )
            if references and rows
            else set()
        )
        level = []
        for id, parent_id, status in rows:
            root_of[id] = root_of[parent_id]
            level.append(id)
            if status not in WORKFLOW_RUN_TERMINAL or id in kept_children:
                kept_roots.add(root_of[id])
    return [id for id, root in root_of.items() if root not in kept_roots]


def take(queryset: QuerySet[M], after: After, size: int, dry_run: bool) -> list[M]:
    """A batch of candidates: the first `size` after `after`, locked unless dry, skipping
    those another pass holds."""
    candidates = after_key(queryset, after)
    if not dry_run:
        candidates = candidates.select_for_update(skip_locked=True, of=("self",))
    return list(candidates[:size])


def last_of(rows: list[Any], size: int) -> After:
    """Where the next batch starts; None after a short batch, the last."""
    return (rows[-1].created_at, rows[-1].id) if len(rows) == size else None


def archive_if_asked(
    tenant: Tenant, kind: str, lines: Callable[[], Iterable[dict[str, Any]]]
) -> list[Path]:
    if not settings.HATCHET_RETENTION_ARCHIVE_DIR:
        return []
    return [archive(tenant, kind, lines())]


def prune_run_batch(
    tenant: Tenant, cutoff: datetime, after: After, size: int, dry_run: bool
) -> Batch:
    """One batch of expired runs with their families, archived if asked and deleted in
    one transaction."""
    references = referencing_fields()
    files: list[Path] = []
    with transaction.atomic():
        roots = take(expired_roots(tenant, cutoff, references), after, size, dry_run)
        run_ids = families([root.id for root in roots], references, lock=not dry_run)
        if run_ids and not dry_run:
            files = archive_if_asked(tenant, "runs", lambda: archived_runs(run_ids))
            # Only the ids: Django loads what it deletes to cascade, inputs and all.
            WorkflowRun.objects.filter(id__in=run_ids).only("id").delete()
    return Batch(len(roots), last_of(roots, size), Pruned(runs=len(run_ids), files=files))


def expired_events(tenant: Tenant, cutoff: datetime) -> QuerySet[Event]:
    """Events pushed before the cutoff that no remaining run was triggered by."""
    return Event.objects.filter(tenant=tenant, created_at__lt=cutoff).exclude(
        Exists(WorkflowRun.objects.filter(event=OuterRef("pk")))
    )


def prune_event_batch(
    tenant: Tenant, cutoff: datetime, after: After, size: int, dry_run: bool
) -> Batch:
    files: list[Path] = []
    with transaction.atomic():
        events = take(expired_events(tenant, cutoff), after, size, dry_run)
        if events and not dry_run:
            files = archive_if_asked(
                tenant, "events", lambda: ({"event": row_of(event)} for event in events)
            )
            Event.objects.filter(id__in=[event.id for event in events]).only("id").delete()
    return Batch(len(events), last_of(events, size), Pruned(events=len(events), files=files))


def row_of(instance: Model) -> dict[str, Any]:
    """Every column of the row, by attribute name (`workflow_id`, not `workflow`)."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def archived_runs(run_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """One line per run: the run, and its step runs, each with its attempts, log lines
    and stream chunks (`lines`) and durable waits."""
    by_step_run: dict[str, dict[uuid.UUID, list[dict[str, Any]]]] = {
        "attempts": defaultdict(list),
        "lines": defaultdict(list),
        "waits": defaultdict(list),
    }
    for name, model in (
        ("attempts", StepRunAttempt),
        ("lines", StepRunLine),
        ("waits", DurableWait),
    ):
        rows = model._default_manager.filter(step_run__workflow_run_id__in=run_ids)
        for row in rows.order_by("step_run_id", "pk"):
            by_step_run[name][row.step_run_id].append(row_of(row))
    step_runs: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for step_run in StepRun.objects.filter(workflow_run_id__in=run_ids).order_by(
        "created_at", "id"
    ):
        step_runs[step_run.workflow_run_id].append(
            {
                **row_of(step_run),
                **{name: rows.get(step_run.id, []) for name, rows in by_step_run.items()},
            }
        )
    return [
        {"run": row_of(run), "step_runs": step_runs.get(run.id, [])}
        for run in WorkflowRun.objects.filter(id__in=run_ids).order_by("created_at", "id")
    ]


def archive(tenant: Tenant, kind: str, lines: Iterable[dict[str, Any]]) -> Path:
    """Write the lines to a new JSONL file under the archive directory and fsync it and
    its directory; a failure leaves no file behind and raises, so that the batch's
    transaction rolls back and nothing is deleted."""
    directory = Path(settings.HATCHET_RETENTION_ARCHIVE_DIR) / tenant.slug
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    path = directory / f"{kind}-{stamp}-{uuid.uuid4().hex[:12]}.jsonl"
    partial = path.with_suffix(".partial")
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with partial.open("w", encoding="utf-8") as file:
            for line in lines:
                file.write(json.dumps(line, cls=DjangoJSONEncoder, sort_keys=True) + "\n")
            file.flush()
            os.fsync(file.fileno())
        partial.rename(path)
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path
