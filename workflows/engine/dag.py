"""Checks on the shape of a workflow: parents that exist, no cycles."""

from collections.abc import Mapping, Sequence

from hatchet.errors import InvalidDefinition


def topological_order(parents: Mapping[str, Sequence[str]]) -> list[str]:
    """Step names, every step after its parents; refuses unknown parents and cycles."""
    for step, step_parents in parents.items():
        for parent in step_parents:
            if parent not in parents:
                raise InvalidDefinition(
                    f"Step '{step}' has unknown parent '{parent}'.",
                    {"step": step, "parent": parent},
                )
            if parent == step:
                raise InvalidDefinition(f"Step '{step}' lists itself as a parent.", {"step": step})
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(step: str, path: list[str]) -> None:
        if state.get(step) == "done":
            return
        if state.get(step) == "visiting":
            cycle = [*path[path.index(step) :], step]
            raise InvalidDefinition(
                f"Steps form a cycle (each waits for the next): {' -> '.join(cycle)}.",
                {"cycle": cycle},
            )
        state[step] = "visiting"
        for parent in parents[step]:
            visit(parent, [*path, step])
        state[step] = "done"
        order.append(step)

    for step in parents:
        visit(step, [])
    return order


def children_of(parents: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {step: [] for step in parents}
    for step, step_parents in parents.items():
        for parent in step_parents:
            children[parent].append(step)
    return children
