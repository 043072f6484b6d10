"""DAG checks: order, unknown parents, cycles."""

import pytest

from hatchet.errors import InvalidDefinition
from workflows.engine.dag import children_of, topological_order


def test_order_puts_every_step_after_its_parents() -> None:
    parents = {"join": ["left", "right"], "left": ["root"], "right": ["root"], "root": []}

    order = topological_order(parents)

    assert order.index("root") < order.index("left") < order.index("join")
    assert order.index("right") < order.index("join")
    assert children_of(parents) == {
        "join": [],
        "left": ["join"],
        "right": ["join"],
        "root": ["left", "right"],
    }


def test_unknown_parent_is_named() -> None:
    with pytest.raises(InvalidDefinition, match="Step 'b' has unknown parent 'ghost'"):
        topological_order({"a": [], "b": ["ghost"]})


def test_cycle_is_spelled_out() -> None:
    with pytest.raises(
        InvalidDefinition, match=r"Steps form a cycle \(each waits for the next\): a -> b -> c -> a"
    ):
        topological_order({"a": ["b"], "b": ["c"], "c": ["a"]})


def test_self_parent_is_refused() -> None:
    with pytest.raises(InvalidDefinition, match="Step 'a' lists itself as a parent"):
        topological_order({"a": ["a"]})
