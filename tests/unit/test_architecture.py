"""The layers of DESIGN.md, read from the source (parsed, never imported): an import
against the dependency direction, or a write of a status outside the engine, fails here
naming where it is.

core (hatchet) <- workflows <- workers, and workflows <- playground; alerts reads
workflows and workers, and no app imports it; only the wiring imports every app. The
SDK (and hatchet.wire, what it shares with the server) runs without Django or any
server module; the server does not import the SDK. Only `workflows/engine` writes the
status of runs and step runs.
"""

import ast
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("workflows", "workers", "playground", "alerts")
SERVER_PACKAGES = ("hatchet", *APPS)
# The project's wiring, the only core modules that import the apps.
WIRING = {"hatchet.urls", "hatchet.routing", "hatchet.asgi", "hatchet.celery", "hatchet.settings"}
# Django-free: the SDK and the helpers it shares with the server.
SDK_PACKAGES = ("hatchet.sdk", "hatchet.wire")
# What the SDK may import besides the standard library and SDK_PACKAGES (its own
# dependencies, none of them Django's).
# opentelemetry is optional: the SDK uses it only where it is installed.
SDK_THIRD_PARTY = ("httpx", "websockets", "opentelemetry")
ENGINE = "workflows.engine"
# Status writes outside the engine that are of no run or step run, by module and the
# name the write starts from: a worker's own state is the registry's.
# Statuses that are no run's: a worker's, and a score's (pending, done, error).
OTHER_STATUS_WRITES = {
    ("workers.registry", "Worker"),
    ("workers.registry", "worker"),
    ("playground.scoring", "Score"),
    # An alert delivery's (pending, delivered, failed) and an alert rule's state.
    ("alerts.delivery", "delivery"),
    ("alerts.evaluation", "rule_as_read"),
}
STATUS_UPDATES = ("update", "update_or_create")
# SQL that sets a status, in a string or an f-string's text.
SQL_STATUS_WRITE = re.compile(r"\bUPDATE\b.+\bSET\b.*\bstatus\b", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module

    def where(self, node: ast.stmt | ast.expr) -> str:
        return f"{self.path.relative_to(ROOT)}:{node.lineno}"

    def is_in(self, *packages: str) -> bool:
        return any(self.name == p or self.name.startswith(p + ".") for p in packages)


def server_modules() -> list[Module]:
    modules = []
    for package in SERVER_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules.append(Module(name, path, ast.parse(path.read_text(), str(path))))
    return modules


MODULES = server_modules()


def imports(module: Module) -> Iterator[tuple[ast.stmt, str]]:
    """Every name the module imports, absolute, with the statement: at any depth (a
    function's import counts), `from a import b` as `a.b`."""
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield node, f"{base}.{alias.name}"


def within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def core_imports_no_app(module: Module, name: str) -> bool:
    return not (
        module.is_in("hatchet")
        and not module.is_in(*SDK_PACKAGES)
        and module.name not in WIRING
        and within(name, *APPS)
    )


def workflows_imports_neither_workers_nor_playground(module: Module, name: str) -> bool:
    return not (module.is_in("workflows") and within(name, "workers", "playground"))


def workers_and_playground_import_neither_other(module: Module, name: str) -> bool:
    return not (
        (module.is_in("workers") and within(name, "playground"))
        or (module.is_in("playground") and within(name, "workers"))
    )


def no_app_imports_alerts(module: Module, name: str) -> bool:
    return not (module.is_in("workflows", "workers", "playground") and within(name, "alerts"))


def sdk_imports_no_django_and_no_server_module(module: Module, name: str) -> bool:
    if not module.is_in(*SDK_PACKAGES):
        return True
    top = name.partition(".")[0]
    return within(name, *SDK_PACKAGES) or top in sys.stdlib_module_names or top in SDK_THIRD_PARTY


def server_imports_no_sdk(module: Module, name: str) -> bool:
    return module.is_in(*SDK_PACKAGES) or not within(name, "hatchet.sdk")


IMPORT_RULES: list[Callable[[Module, str], bool]] = [
    core_imports_no_app,
    workflows_imports_neither_workers_nor_playground,
    workers_and_playground_import_neither_other,
    no_app_imports_alerts,
    sdk_imports_no_django_and_no_server_module,
    server_imports_no_sdk,
]


@pytest.mark.parametrize("rule", IMPORT_RULES, ids=lambda rule: rule.__name__)
def test_imports_point_the_way_the_layers_do(rule: Callable[[Module, str], bool]) -> None:
    assert [
        f"{module.where(node)} imports {name}"
        for module in MODULES
        for node, name in imports(module)
        if not rule(module, name)
    ] == []


def root_name(node: ast.expr) -> str:
    """The name an expression such as `StepRun.objects.filter(...).update` starts from."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def names_status(node: ast.expr | None) -> bool:
    return isinstance(node, ast.List | ast.Tuple | ast.Set) and any(
        isinstance(item, ast.Constant) and item.value == "status" for item in node.elts
    )


def text_of(node: ast.Constant | ast.JoinedStr) -> str:
    """A string's text; an f-string's with `{}` for each value it formats."""
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
    return node.value if isinstance(node.value, str) else ""


def status_writes(module: Module) -> Iterator[tuple[ast.stmt | ast.expr, str]]:
    """`x.status = ...`, `.update(status=...)` or `.update(**fields)` (which may name
    it), `.bulk_update(rows, ["status"])`, `.save(update_fields=["status"])`, each with
    the name it starts from, and SQL text that updates a status (named "SQL")."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Constant | ast.JoinedStr) and SQL_STATUS_WRITE.search(
            text_of(node)
        ):
            yield node, "SQL"
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and part.attr == "status":
                        yield node, root_name(part.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, keywords = node.func.attr, {k.arg: k.value for k in node.keywords}
            if (
                (method in STATUS_UPDATES and ("status" in keywords or None in keywords))
                or (
                    method == "bulk_update"
                    and any(map(names_status, [*node.args, *keywords.values()]))
                )
                or (method == "save" and names_status(keywords.get("update_fields")))
            ):
                yield node, root_name(node.func.value)


def test_only_the_engine_writes_the_status_of_runs_and_step_runs() -> None:
    assert [
        f"{module.where(node)} writes the status of {name or 'an expression'}"
        for module in MODULES
        if not module.is_in(ENGINE, *SDK_PACKAGES)
        for node, name in status_writes(module)
        if (module.name, name) not in OTHER_STATUS_WRITES
    ] == []


def test_the_rules_see_what_they_are_written_to_catch() -> None:
    """Each rule, on a module written to break it: a rule that sees nothing passes
    whatever the code does."""

    def parsed(name: str, source: str) -> Module:
        return Module(name, ROOT / (name.replace(".", "/") + ".py"), ast.parse(source))

    broken = {
        core_imports_no_app: parsed("hatchet.views", "from workers import registry"),
        workflows_imports_neither_workers_nor_playground: parsed(
            "workflows.engine.runs", "def f():\n    from playground.github import x"
        ),
        workers_and_playground_import_neither_other: parsed(
            "workers.dispatch", "import playground.catalog"
        ),
        no_app_imports_alerts: parsed("workers.registry", "from alerts.models import AlertRule"),
        sdk_imports_no_django_and_no_server_module: parsed(
            "hatchet.sdk.worker", "from django.conf import settings"
        ),
        server_imports_no_sdk: parsed("playground.services", "from hatchet.sdk import context"),
    }
    for rule, module in broken.items():
        assert not all(rule(module, name) for _, name in imports(module)), rule.__name__
    assert not all(
        sdk_imports_no_django_and_no_server_module(module, name)
        for module in [parsed("hatchet.sdk.client", "from ..models import Tenant")]
        for _, name in imports(module)
    )
    written = parsed(
        "workers.dispatch",
        "run.status = 'RUNNING'\n"
        "StepRun.objects.filter(pk=1).update(status='QUEUED')\n"
        "StepRun.objects.bulk_update(rows, ['status'])\n"
        "run.save(update_fields=['status'])\n"
        "WorkflowRun.objects.filter(pk=1).update(**changes)\n"
        "cursor.execute(f'UPDATE {table} SET finished_at = now(), status = %s WHERE id = %s')\n",
    )
    assert [name for _, name in status_writes(written)] == [
        "run",
        "StepRun",
        "StepRun",
        "run",
        "WorkflowRun",
        "SQL",
    ]
