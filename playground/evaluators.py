"""The evaluators' actions: attach one to a workflow (or one of its steps), change or
delete it, and try it on one output before it scores a comparison. Configs arrive
validated by their kind's serializer (playground.serializers.CONFIG_SERIALIZERS)."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from hatchet.errors import Conflict, InvalidRequest
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from playground.code_evaluators import try_code_evaluator
from playground.evaluation import Subject, Verdict, evaluate
from playground.models import Evaluator
from playground.services import Author, workflow_or_404
from workflows.engine.versions import latest_version, steps_of
from workflows.models import Workflow


def evaluator_or_404(tenant: Tenant, evaluator_id: Any) -> Evaluator:
    evaluators = Evaluator.objects.filter(tenant=tenant).select_related("workflow")
    return get_or_404(evaluators, "Evaluator not found.", pk=evaluator_id)


def check_step(workflow: Workflow, step: str) -> str:
    """A step of the workflow's newest version, or blank (its output step)."""
    if not step:
        return ""
    names = [s.name for s in steps_of(latest_version(workflow.tenant, workflow.name).pk)]
    if step not in names:
        raise InvalidRequest(
            f"{workflow.name} has no step '{step}' (its steps: {', '.join(names)}).",
            {"step": step, "steps": names},
        )
    return step


def save_evaluator(evaluator: Evaluator, *, creating: bool) -> None:
    try:
        with transaction.atomic():
            evaluator.save(force_insert=creating)
    except IntegrityError:
        raise Conflict(
            f"{evaluator.workflow.name} already has an evaluator named '{evaluator.name}'.",
            {"name": evaluator.name},
        ) from None


def create_evaluator(
    tenant: Tenant,
    workflow_name: str,
    name: str,
    kind: str,
    config: dict[str, Any],
    author: Author,
    *,
    step: str = "",
    threshold: float = 0.5,
) -> Evaluator:
    workflow = workflow_or_404(tenant, workflow_name)
    now = timezone.now()
    evaluator = Evaluator(
        tenant=tenant,
        workflow=workflow,
        step=check_step(workflow, step),
        name=name,
        kind=kind,
        config=config,
        threshold=threshold,
        created_by=author.user,
        created_by_name=author.name,
        created_at=now,
        updated_at=now,
    )
    save_evaluator(evaluator, creating=True)
    return evaluator


def edit_evaluator(tenant: Tenant, evaluator_id: Any, **changes: Any) -> Evaluator:
    """Change any of name, step, kind with config, config, threshold. Scores already
    given stay until the comparison is rescored."""
    evaluator = evaluator_or_404(tenant, evaluator_id)
    if "step" in changes:
        changes["step"] = check_step(evaluator.workflow, changes["step"])
    for field, value in changes.items():
        setattr(evaluator, field, value)
    evaluator.updated_at = timezone.now()
    save_evaluator(evaluator, creating=False)
    return evaluator


def delete_evaluator(tenant: Tenant, evaluator_id: Any) -> None:
    """Its scores go with it; comparisons it scored keep their other evaluators."""
    evaluator_or_404(tenant, evaluator_id).delete()


def try_evaluator(tenant: Tenant, evaluator_id: Any, subject: Subject) -> Verdict:
    """The evaluator's verdict on an output given by hand; nothing is stored (but a
    code evaluator's run, which may answer pending: see try_code_evaluator)."""
    evaluator = evaluator_or_404(tenant, evaluator_id)
    if evaluator.is_code:
        return try_code_evaluator(evaluator, subject)
    return evaluate(evaluator.kind, evaluator.config, evaluator.threshold, subject)
