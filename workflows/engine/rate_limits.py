"""Rate limits: at most `limit` units taken in any `period` (a sliding window) by the
step runs of every workflow that name the limit's key.

A step declares the units it takes: of a named limit (created over the API or the
SDK), or of a dynamic one whose key is computed from the run's input or metadata (the
step's declaration gives its limit and period, and creates it on first use). The
units are taken as a step run is assigned, under the limit's row lock, against the
uses of the window as the database holds them, so several server processes never
take more than the limit together. A step run whose units are not free goes back to
the queue, claimable again when they will be, its schedule timeout counted from then:
it waits for the limit, and never fails for it.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from hatchet.errors import InvalidDefinition, NotFound
from workflows.engine.maintenance import fail_queued_step_runs
from workflows.engine.paths import key_path, value_at
from workflows.models import (
    RateLimit,
    RateLimitPeriod,
    RateLimitUse,
    StepRun,
    StepRunAttempt,
    StepRunStatus,
)

MAX_PER_STEP = 10
MAX_UNITS = 1_000_000
MAX_LIMIT = 1_000_000_000
MAX_KEY_LENGTH = 255
FIELDS = {"key", "dynamic_key", "units", "limit", "period"}
PERIODS = {label: int(value) for value, label in RateLimitPeriod.choices}
# How soon a step run waiting for a limit no one has defined looks again.
UNDEFINED_RECHECK = timedelta(seconds=5)


def parse_rate_limits(raw: Any, where: str) -> list[dict[str, Any]]:
    """A step's `rate_limits`, checked (docs/protocol.md): each names a `key`, or a
    `dynamic_key` path with its `limit` and `period`; `units` is a count or a path."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_PER_STEP:
        raise InvalidDefinition(
            f"{where}: rate_limits must be a list of at most {MAX_PER_STEP} objects.",
            {"field": "rate_limits"},
        )
    return [parse_rate_limit(item, f"{where}: rate_limits[{i}]") for i, item in enumerate(raw)]


def parse_rate_limit(raw: Any, where: str) -> dict[str, Any]:
    def refuse(message: str) -> InvalidDefinition:
        return InvalidDefinition(f"{where}: {message}", {"field": "rate_limits"})

    if not isinstance(raw, dict):
        raise refuse("each rate limit must be an object.")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise refuse(f"unknown field(s): {', '.join(unknown)}.")
    units = raw.get("units", 1)
    if isinstance(units, str):
        if not key_path(units):
            raise refuse("units must be a count or a path such as 'input.tokens'.")
    elif isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
        raise refuse(f"units must be an integer from 1 to {MAX_UNITS}.")
    key, dynamic_key = raw.get("key"), raw.get("dynamic_key")
    if (key is None) == (dynamic_key is None):
        raise refuse("name either a key or a dynamic_key.")
    if key is not None:
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
            raise refuse(f"key must be a name of 1 to {MAX_KEY_LENGTH} characters.")
        if "limit" in raw or "period" in raw:
            raise refuse("limit and period belong to a dynamic_key; a key's are set over the API.")
        return {"key": key, "units": units}
    if not isinstance(dynamic_key, str) or not key_path(dynamic_key):
        raise refuse("dynamic_key must be a path such as 'input.user_id'.")
    limit = raw.get("limit")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise refuse(f"a dynamic_key needs a limit, an integer from 1 to {MAX_LIMIT}.")
    period = raw.get("period")
    if period not in PERIODS:
        raise refuse(f"a dynamic_key needs a period: one of {', '.join(PERIODS)}.")
    return {"dynamic_key": dynamic_key, "units": units, "limit": limit, "period": period}


@dataclass(frozen=True)
class Need:
    """The units of one limit a step run takes; `creates` is a dynamic limit's
    (limit, period in seconds), for its row if it has none yet."""

    key: str
    units: int
    creates: tuple[int, int] | None = None


class UnusableUnits(Exception):
    """A step's units path names no positive integer in the run: it cannot ever run."""


def needs_of(declared: Iterable[Mapping[str, Any]], input: Any, metadata: Any) -> list[Need]:
    """What a run's step run takes of each limit the step declares."""
    needs = []
    for rate_limit in declared:
        units = rate_limit["units"]
        if isinstance(units, str):
            value = value_at(units, input, metadata)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_UNITS:
                raise UnusableUnits(
                    f"Rate limit units at {units} must be an integer from 1 to {MAX_UNITS}, "
                    f"not {json.dumps(value)}."
                )
            units = value
        if "key" in rate_limit:
            needs.append(Need(rate_limit["key"], units))
        else:
            value = value_at(rate_limit["dynamic_key"], input, metadata)
            key = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            creates = (rate_limit["limit"], PERIODS[rate_limit["period"]])
            needs.append(Need(key[:MAX_KEY_LENGTH], units, creates))
    return needs


@dataclass
class Window:
    """A limit's uses in the window ending now, with those taken in this transaction."""

    rate_limit: RateLimit
    now: datetime
    used: int
    taken: list[int] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.now - timedelta(seconds=self.rate_limit.period)

    def fits(self, units: int) -> bool:
        return self.used + sum(self.taken) + units <= self.rate_limit.limit

    def free_at(self, units: int) -> datetime:
        """When `units` more fit, as the window's uses leave it (units beyond the limit:
        a period on, to look again)."""
        period = timedelta(seconds=self.rate_limit.period)
        if units > self.rate_limit.limit:
            return self.now + period
        excess = self.used + sum(self.taken) + units - self.rate_limit.limit
        uses = RateLimitUse.objects.filter(
            rate_limit=self.rate_limit, used_at__gt=self.start
        ).order_by("used_at")
        # A list, not an iterator: a report's refill claims in pipeline mode, where
        # PostgreSQL's server-side cursors are refused.
        for used_at, used in list(uses.values_list("used_at", "units")):
            excess -= used
            if excess <= 0:
                return used_at + period
        # What is still in excess was taken now, by this transaction.
        return self.now + period


def window_of(rate_limit: RateLimit, now: datetime) -> Window:
    start = now - timedelta(seconds=rate_limit.period)
    used = RateLimitUse.objects.filter(rate_limit=rate_limit, used_at__gt=start).aggregate(
        total=Sum("units")
    )["total"]
    return Window(rate_limit, now, used or 0)


class Claimed(Protocol):
    """A step run just assigned, with what its step declares and its run's data."""

    @property
    def step_run_id(self) -> UUID: ...
    @property
    def attempt(self) -> int: ...
    @property
    def rate_limits(self) -> list[dict[str, Any]]: ...
    @property
    def schedule_timeout_seconds(self) -> float: ...
    @property
    def input(self) -> Any: ...
    @property
    def metadata(self) -> Any: ...


def take_units(tenant_id: Any, claimed: Iterable[Claimed], now: datetime) -> set[UUID]:
    """Take the units of the rate-limited step runs among `claimed` (in claim order) and
    give back to the queue those whose units are not free; their ids. Runs in the
    claim's transaction, after the step runs were assigned."""
    limited = [c for c in claimed if c.rate_limits]
    if not limited:
        return set()
    needs: dict[UUID, list[Need]] = {}
    unusable: dict[UUID, str] = {}
    for claim in limited:
        try:
            needs[claim.step_run_id] = needs_of(claim.rate_limits, claim.input, claim.metadata)
        except UnusableUnits as error:
            unusable[claim.step_run_id] = str(error)
    windows = lock_windows(tenant_id, [n for step_needs in needs.values() for n in step_needs], now)
    free_at: dict[UUID, datetime] = {}
    uses = []
    for claim in limited:
        if claim.step_run_id in unusable:
            free_at[claim.step_run_id] = now + UNDEFINED_RECHECK
            continue
        step_needs = needs[claim.step_run_id]
        undefined = [n for n in step_needs if n.key not in windows]
        if undefined:
            free_at[claim.step_run_id] = now + UNDEFINED_RECHECK
            continue
        full = [n for n in step_needs if not windows[n.key].fits(n.units)]
        if full:
            free_at[claim.step_run_id] = max(windows[n.key].free_at(n.units) for n in full)
            continue
        for need in step_needs:
            window = windows[need.key]
            window.taken.append(need.units)
            uses.append(
                RateLimitUse(
                    rate_limit=window.rate_limit,
                    units=need.units,
                    used_at=now,
                    step_run_id=claim.step_run_id,
                )
            )
    RateLimitUse.objects.bulk_create(uses)
    give_back(limited, free_at)
    if unusable:
        transaction.on_commit(lambda: fail_queued_step_runs(unusable))
    return set(free_at)


def lock_windows(tenant_id: Any, needs: list[Need], now: datetime) -> dict[str, Window]:
    """The windows of the limits `needs` name, their rows locked in key order (so that
    two claims never wait for each other); dynamic limits without a row get one."""
    if not needs:
        return {}
    creates = {n.key: n.creates for n in needs if n.creates is not None}
    if creates:
        RateLimit.objects.bulk_create(
            [
                RateLimit(
                    tenant_id=tenant_id,
                    key=key,
                    limit=limit,
                    period=period,
                    dynamic=True,
                    created_at=now,
                    updated_at=now,
                )
                for key, (limit, period) in creates.items()
            ],
            ignore_conflicts=True,
        )
    rate_limits = (
        RateLimit.objects.select_for_update()
        .filter(tenant_id=tenant_id, key__in={n.key for n in needs})
        .order_by("key")
    )
    return {rate_limit.key: window_of(rate_limit, now) for rate_limit in rate_limits}


def give_back(claimed: Iterable[Claimed], free_at: Mapping[UUID, datetime]) -> None:
    """Undo the assignment of each step run in `free_at`: queued again, claimable at its
    time there, with its whole schedule timeout from then to be assigned."""
    for claim in claimed:
        when = free_at.get(claim.step_run_id)
        if when is None:
            continue
        StepRun.objects.filter(pk=claim.step_run_id).update(
            status=StepRunStatus.QUEUED,
            worker_id=None,
            attempt=F("attempt") - 1,
            available_at=when,
            deadline=when + timedelta(seconds=claim.schedule_timeout_seconds),
        )
        StepRunAttempt.objects.filter(step_run_id=claim.step_run_id, number=claim.attempt).delete()


def forget_spent_uses(now: datetime) -> int:
    """Delete the uses that have left their limit's window."""
    deleted = 0
    for period in PERIODS.values():
        spent = RateLimitUse.objects.filter(
            rate_limit__period=period, used_at__lte=now - timedelta(seconds=period)
        )
        deleted += spent.delete()[0]
    return deleted


def put_rate_limit(tenant_id: Any, key: str, limit: int, period: str) -> tuple[RateLimit, bool]:
    """Create the named limit, or set a new limit and period on it; whether created.
    Units already taken stay taken: a lower limit holds new step runs back until the
    window's uses fit under it. Step runs already held back keep the time the old
    limit gave them (at most a period away)."""
    now = timezone.now()
    with transaction.atomic():
        rate_limit, created = RateLimit.objects.select_for_update().get_or_create(
            tenant_id=tenant_id,
            key=key,
            defaults={"limit": limit, "period": PERIODS[period], "created_at": now},
        )
        if not created:
            rate_limit.limit = limit
            rate_limit.period = PERIODS[period]
        rate_limit.dynamic = False
        rate_limit.updated_at = now
        rate_limit.save()
    return rate_limit, created


def current_use(rate_limits: Iterable[RateLimit], now: datetime) -> dict[UUID, int]:
    """The units each limit has taken in its window ending now."""
    by_period: dict[int, list[UUID]] = {}
    for rate_limit in rate_limits:
        by_period.setdefault(rate_limit.period, []).append(rate_limit.id)
    used = {}
    for period, ids in by_period.items():
        rows = (
            RateLimitUse.objects.filter(
                rate_limit_id__in=ids, used_at__gt=now - timedelta(seconds=period)
            )
            .values("rate_limit_id")
            .annotate(total=Sum("units"))
            .values_list("rate_limit_id", "total")
        )
        used.update(dict(rows))
    return used


def delete_rate_limit(tenant_id: Any, rate_limit_id: UUID) -> None:
    """Forget a limit and its uses; a step that names it waits until it is defined
    again (a dynamic one is created again on the next use)."""
    deleted, _ = RateLimit.objects.filter(tenant_id=tenant_id, pk=rate_limit_id).delete()
    if not deleted:
        raise NotFound("No such rate limit.")


def waiting_reason(
    tenant_id: Any, declared: list[dict[str, Any]], input: Any, metadata: Any
) -> str:
    """Why a step that declares `declared` cannot take its units now; blank if it can."""
    try:
        needs = needs_of(declared, input, metadata)
    except UnusableUnits as error:
        return str(error)
    now = timezone.now()
    rate_limits = {
        r.key: r
        for r in RateLimit.objects.filter(tenant_id=tenant_id, key__in={n.key for n in needs})
    }
    for need in needs:
        rate_limit = rate_limits.get(need.key)
        if rate_limit is None:
            if need.creates is None:
                return f"Rate limit '{need.key}' is not defined: put it for this step to run."
            continue
        window = window_of(rate_limit, now)
        if not window.fits(need.units):
            return (
                f"Rate limit '{need.key}' is full: {window.used} of {rate_limit.limit} units "
                f"taken in the last {rate_limit.get_period_display()}; {need.units} free at "
                f"{window.free_at(need.units).isoformat()}."
            )
    return ""
