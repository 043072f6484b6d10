"""Text arrays that a statement sends again and again, encoded once.

psycopg dumps a list parameter element by element in Python at every execute: a
worker's actions, sent with each claim for its free slots, cost the servers ~0.4 ms
of CPU per step run at light load (py-spy, bench/README). A `TextArray` carries its
PostgreSQL text form, made the first time those items are asked for.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import adapt, adapters, postgres


@dataclass(frozen=True)
class TextArray:
    items: tuple[str, ...]
    encoded: bytes


def quoted(item: str) -> str:
    return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'


@functools.lru_cache(maxsize=4096)
def _text_array(items: frozenset[str]) -> TextArray:
    ordered = tuple(sorted(items))
    return TextArray(ordered, ("{" + ",".join(map(quoted, ordered)) + "}").encode())


def text_array(items: Iterable[str]) -> TextArray:
    """The distinct `items`, sorted, as a text[] parameter."""
    return _text_array(frozenset(items))


class TextArrayDumper(adapt.Dumper):
    oid = postgres.types["text"].array_oid

    def dump(self, obj: TextArray) -> bytes:
        return obj.encoded


# Connections copy the global adapters when they are made: this module is imported
# with the database backend, before the first one.
adapters.register_dumper(TextArray, TextArrayDumper)
