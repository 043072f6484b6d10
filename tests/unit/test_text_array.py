"""A text[] parameter encoded once (hatchet/postgresql/arrays.py) reaches PostgreSQL as
the list it stands for, whatever its items hold, and is encoded once per set of items."""

from typing import Any

import pytest
from django.db import connection

from hatchet.postgresql.arrays import text_array

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a psycopg dumper"),
]

AWKWARD = ['say "hi"', "back\\slash", "a,b", "{braces}", " padded ", "NULL", "ünïcode", ""]


@pytest.mark.parametrize("items", [[], ["Workflow:step"], ["b", "a", "b"], AWKWARD], ids=str)
def test_the_database_reads_back_the_distinct_items_in_order(items: list[str]) -> None:
    params: list[Any] = [text_array(items)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", params)
        [read] = cursor.fetchone()

    assert read == sorted(set(items))


def test_the_same_items_in_any_order_share_one_encoding() -> None:
    assert text_array(["b", "a"]) is text_array(["a", "b", "a"])
