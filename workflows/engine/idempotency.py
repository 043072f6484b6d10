"""Idempotency keys: a run trigger or an event push that names a key a call of the
tenant named within HATCHET_IDEMPOTENCY_WINDOW is answered with what that first call
made, instead of making it again, so that a client may retry a call whose answer it
lost. Keys of runs and of events are apart; after the window a key makes anew. Items
of one batch naming the same key get one answer.

The key is taken by inserting its row in the transaction that makes the run or event;
a concurrent call naming it waits on the row's unique index until that transaction
ends, then reads what it made (or, if it rolled back, takes the key itself)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction

from workflows.models import IdempotencyKey

MAX_KEY_LENGTH = 255
T = TypeVar("T")
M = TypeVar("M")


@dataclass
class KeyedBatch:
    """A batch's items, as their idempotency keys answer them: with what an earlier call
    made (`earlier`, by item: its id), with an earlier item of the batch naming the same
    key (`same_as`, by item: that item), or fresh (the rest, which the batch makes)."""

    keys: list[str | None]
    earlier: dict[int, Any] = field(default_factory=dict)
    same_as: dict[int, int] = field(default_factory=dict)

    def fresh(self, items: Sequence[T]) -> list[T]:
        return [item for index, item in enumerate(items) if self.is_fresh(index)]

    def is_fresh(self, index: int) -> bool:
        return index not in self.earlier and index not in self.same_as

    def answer(self, made: Sequence[M], found: Mapping[Any, M]) -> list[M]:
        """Every item's answer in order, from what the batch `made` (for its fresh
        items, in order) and what earlier calls made (`found`, by id)."""
        fresh = iter(made)
        answers: list[M] = []
        for index in range(len(self.keys)):
            if index in self.earlier:
                answers.append(found[self.earlier[index]])
            elif index in self.same_as:
                answers.append(answers[self.same_as[index]])
            else:
                answers.append(next(fresh))
        return answers

    def record(self, tenant_id: Any, scope: str, made: Sequence[Any]) -> None:
        """Point each key the batch took at what its item made (ids, in the order of
        the fresh items)."""
        field_name = "run_id" if scope == IdempotencyKey.Scope.RUN else "event_id"
        for key, made_id in zip(self.fresh(self.keys), made, strict=True):
            if key:
                IdempotencyKey.objects.filter(tenant_id=tenant_id, scope=scope, key=key).update(
                    **{field_name: made_id}
                )


def take_keys(tenant_id: Any, scope: str, keys: list[str | None], now: datetime) -> KeyedBatch:
    """Take the batch's keys, in its transaction (which must then record them)."""
    batch = KeyedBatch(keys)
    first: dict[str, int] = {}
    for index, key in enumerate(keys):
        if not key:
            continue
        if key in first:
            batch.same_as[index] = first[key]
            continue
        first[key] = index
        row = take_key(tenant_id, scope, key, now)
        if row is not None:
            batch.earlier[index] = row.run_id if scope == IdempotencyKey.Scope.RUN else row.event_id
    return batch


def take_key(tenant_id: Any, scope: str, key: str, now: datetime) -> IdempotencyKey | None:
    """Take `key` for what the caller's transaction makes; None if taken. If a call
    within the window took it already, its row."""
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(tenant_id=tenant_id, scope=scope, key=key, created_at=now)
        return None
    except IntegrityError:
        row = IdempotencyKey.objects.select_for_update().get(
            tenant_id=tenant_id, scope=scope, key=key
        )
    if row.created_at > now - window():
        return row
    # Spent: the key is this call's now.
    row.created_at, row.run_id, row.event_id = now, None, None
    row.save(update_fields=["created_at", "run", "event"])
    return None


def window() -> timedelta:
    return timedelta(seconds=settings.HATCHET_IDEMPOTENCY_WINDOW)


def forget_spent_keys(now: datetime) -> int:
    """Delete the keys whose window has passed."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=now - window()).delete()
    return deleted
