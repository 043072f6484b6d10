"""The regression gate: did a comparison's variant column regress against its baseline
column, and why. Rules bound an evaluator's pass rate or mean score (at least a value,
or at most a drop from the baseline's); the workflow's thresholds hold them, a gate run
adds its own. The pull request's evidence and `manage.py playground evaluate` (and its
REST resource) all judge with `gate_verdict`."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from hatchet.errors import InvalidRequest
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from playground.datasets import version_of
from playground.models import (
    Comparison,
    Dataset,
    Evaluation,
    Evaluator,
    GateMetric,
    RegressionThreshold,
    ScoreStatus,
    Variant,
)
from playground.outcomes import comparison_matrix, row_scores
from playground.services import Author, start_comparison, workflow_or_404
from workflows.models import Workflow

# Differences smaller than this are rounding, not a regression.
TOLERANCE = 1e-9
METRIC_NAMES = {GateMetric.PASS_RATE: "pass rate", GateMetric.MEAN_SCORE: "mean score"}
CODE_BASELINE = "code"


@dataclass(frozen=True)
class Rule:
    """An evaluator's `metric` must be at least `at_least`, and fall at most `max_drop`
    below the baseline column's."""

    evaluator: str
    metric: str = GateMetric.PASS_RATE
    max_drop: float | None = None
    at_least: float | None = None

    def broken_by(self, value: float | None, baseline: float | None) -> list[str]:
        """Why a column with `value` (the baseline's: `baseline`) breaks the rule."""
        label = f"{self.evaluator} {METRIC_NAMES[GateMetric(self.metric)]}"
        if value is None:
            return [f"{label}: no cell was scored"]
        reasons = []
        if self.at_least is not None and value < self.at_least - TOLERANCE:
            reasons.append(f"{label} is {value:.3f}, under the {self.at_least:g} required")
        if self.max_drop is not None and baseline is not None:
            drop = baseline - value
            if drop > self.max_drop + TOLERANCE:
                reasons.append(
                    f"{label} fell from {baseline:.3f} to {value:.3f} (by {drop:.3f}; at most "
                    f"{self.max_drop:g} is allowed)"
                )
        return reasons


def rule_from_option(text: str, bound: str) -> Rule:
    """`EVALUATOR=VALUE` or `EVALUATOR:METRIC=VALUE` (METRIC pass_rate, the default, or
    mean_score) as a rule with `bound` ("at_least" or "max_drop") set to VALUE."""
    name, equals, value_text = text.rpartition("=")
    if not equals or not name:
        raise InvalidRequest(f"'{text}' is not EVALUATOR=VALUE or EVALUATOR:METRIC=VALUE.")
    metric = GateMetric.PASS_RATE.value
    evaluator, colon, suffix = name.rpartition(":")
    if colon and suffix in GateMetric.values:
        name, metric = evaluator, suffix
    try:
        value = float(value_text)
    except ValueError:
        raise InvalidRequest(f"'{text}': {value_text!r} is not a number.") from None
    if not 0 <= value <= 1:
        raise InvalidRequest(f"'{text}': a pass rate or mean score bound is from 0 to 1.")
    return Rule(name, metric, **{bound: value})


def workflow_rules(workflow: Workflow) -> list[Rule]:
    thresholds = RegressionThreshold.objects.filter(workflow=workflow).select_related("evaluator")
    return [
        Rule(t.evaluator.name, t.metric, max_drop=t.max_drop, at_least=t.at_least)
        for t in thresholds
    ]


def default_rules(evaluators: Sequence[Evaluator]) -> list[Rule]:
    """With no threshold set and none asked for: no evaluator's pass rate may drop."""
    return [Rule(evaluator.name, GateMetric.PASS_RATE, max_drop=0.0) for evaluator in evaluators]


@dataclass(frozen=True)
class GateVerdict:
    """The gate's answer on one column: whether every cell is finished and scored, and
    if so whether it regressed and why; each column's figures, and the rows whose
    score fell below the baseline's."""

    comparison: uuid.UUID
    workflow: str
    column: int
    baseline: int
    is_finished: bool
    regressed: bool
    reasons: list[str]
    rules: list[Rule]
    columns: list[dict[str, Any]]
    regressed_rows: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def is_scored(cells: list[dict[str, Any]], evaluator_count: int) -> bool:
    """Every cell finished, with a verdict (or an error) from every evaluator."""
    return all(
        cell["is_finished"]
        and sum(1 for s in cell["scores"] if s["status"] != ScoreStatus.PENDING) >= evaluator_count
        for cell in cells
    )


def column_table(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """Each column's figures as the gate prints them."""
    return [
        {
            "column": summary["column"],
            "title": matrix["columns"][summary["column"]]["title"],
            "is_baseline": summary["is_baseline"],
            "evaluators": [
                {key: e[key] for key in ("name", "scored", "passed", "pass_rate", "mean_score")}
                for e in summary["evaluators"]
            ],
            **{
                key: summary[key]
                for key in (
                    "mean_latency_ms",
                    "total_tokens",
                    "total_cost",
                    "improved",
                    "regressed",
                    "unchanged",
                )
            },
        }
        for summary in matrix["summary"]
    ]


def rows_that_regressed(matrix: dict[str, Any], column: int) -> list[dict[str, Any]]:
    """The rows whose mean score in `column` is below the baseline column's."""
    by_column: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for cell in matrix["cells"]:
        by_column[cell["column"]].append(cell)
    mine, theirs = row_scores(by_column[column]), row_scores(by_column[matrix["baseline"]])
    return [
        {
            "row": row,
            "title": matrix["rows"][row]["title"],
            "baseline_score": theirs[row],
            "score": mine[row],
        }
        for row in sorted(mine.keys() & theirs.keys())
        if mine[row] < theirs[row] - TOLERANCE
    ]


def gate_verdict(
    comparison: Comparison, column: int, extra_rules: Sequence[Rule] = ()
) -> GateVerdict:
    """Judge `column` against the comparison's baseline with the workflow's thresholds
    and `extra_rules` (or, with neither, the default: no pass rate may drop)."""
    matrix = comparison_matrix(comparison)
    evaluators: list[Evaluator] = matrix["evaluators"]
    rules = [*workflow_rules(comparison.workflow), *extra_rules] or default_rules(evaluators)
    finished = is_scored(matrix["cells"], len(evaluators))
    reasons: list[str] = []
    if finished:
        summaries = {s["column"]: s for s in matrix["summary"]}
        mine = {e["name"]: e for e in summaries[column]["evaluators"]}
        theirs = {e["name"]: e for e in summaries[matrix["baseline"]]["evaluators"]}
        for rule in rules:
            if rule.evaluator not in mine:
                reasons.append(f"{rule.evaluator} did not score this comparison")
                continue
            reasons += rule.broken_by(
                mine[rule.evaluator][rule.metric], theirs[rule.evaluator][rule.metric]
            )
    return GateVerdict(
        comparison=comparison.pk,
        workflow=comparison.workflow.name,
        column=column,
        baseline=matrix["baseline"],
        is_finished=finished,
        regressed=bool(reasons),
        reasons=reasons,
        rules=list(rules),
        columns=column_table(matrix),
        regressed_rows=rows_that_regressed(matrix, column) if finished else [],
    )


def named_or_404(rows: Any, what: str, workflow: Workflow, name_or_id: str) -> Any:
    """A variant or dataset of the workflow by its name, or by its id."""
    message = f"{workflow.name} has no {what} '{name_or_id}'."
    found = rows.filter(workflow=workflow, name=name_or_id).first()
    if found is not None:
        return found
    return get_or_404(rows.filter(workflow=workflow), message, pk=name_or_id)


def start_evaluation(
    tenant: Tenant,
    workflow_name: str,
    dataset_name: str,
    variant_name: str,
    author: Author,
    *,
    baseline: str = CODE_BASELINE,
    rules: Sequence[Rule] = (),
) -> Evaluation:
    """Compare the variant (column 1) against the baseline (column 0: the defaults in
    code, or a variant) over the dataset's current version, scored by every evaluator
    of the workflow."""
    workflow = workflow_or_404(tenant, workflow_name)
    dataset = named_or_404(Dataset.objects.filter(tenant=tenant), "dataset", workflow, dataset_name)
    variants = Variant.objects.filter(tenant=tenant)
    variant = named_or_404(variants, "variant", workflow, variant_name)
    version = version_of(dataset)
    if version is None:
        message = f"Dataset '{dataset.name}' has no rows yet."
        raise InvalidRequest(message, {"dataset": dataset_name})
    evaluators = list(Evaluator.objects.filter(workflow=workflow))
    if not evaluators:
        raise InvalidRequest(
            f"{workflow.name} has no evaluators: there is nothing to judge the variant by.",
            {"workflow": workflow.name},
        )
    known = {evaluator.name for evaluator in evaluators}
    unknown = sorted({rule.evaluator for rule in rules} - known)
    if unknown:
        raise InvalidRequest(
            f"{workflow.name} has no evaluator {', '.join(unknown)} (it has: "
            f"{', '.join(sorted(known))}).",
            {"evaluators": unknown},
        )
    base_column: dict[str, Any] = {"baseline": True}
    if baseline != CODE_BASELINE:
        base_column = {"variant": str(named_or_404(variants, "variant", workflow, baseline).pk)}
    with transaction.atomic():
        comparison = start_comparison(
            tenant,
            workflow.name,
            [base_column, {"variant": str(variant.pk)}],
            [],
            author,
            dataset_version=version,
            baseline=0,
        )
        return Evaluation.objects.create(
            tenant=tenant,
            comparison=comparison,
            column=1,
            rules=[asdict(rule) for rule in rules],
            created_by=author.user,
            created_by_name=author.name,
        )


def evaluation_or_404(tenant: Tenant, evaluation_id: Any) -> Evaluation:
    evaluations = Evaluation.objects.filter(tenant=tenant).select_related(
        "comparison", "comparison__workflow"
    )
    return get_or_404(evaluations, "Evaluation not found.", pk=evaluation_id)


def evaluation_verdict(evaluation: Evaluation) -> GateVerdict:
    rules = [Rule(**rule) for rule in evaluation.rules]
    return gate_verdict(evaluation.comparison, evaluation.column, rules)


def shown(value: float | None, form: str = ".2f") -> str:
    return "-" if value is None else format(value, form)


def table_lines(verdict: GateVerdict) -> list[str]:
    """The verdict's columns as plain text lines, one per column."""
    lines = []
    for column in verdict.columns:
        scores = ", ".join(
            f"{e['name']} {shown(e['pass_rate'])} pass / {shown(e['mean_score'])} mean"
            for e in column["evaluators"]
        )
        role = "baseline" if column["is_baseline"] else "variant"
        cost, latency = column["total_cost"], column["mean_latency_ms"]
        lines.append(
            f"[{role}] {column['title']}: {scores}; latency {shown(latency, '.0f')} ms; "
            f"{column['total_tokens']} tokens; cost {shown(cost, '.6f')}; "
            f"{column['improved']} improved, {column['regressed']} regressed, "
            f"{column['unchanged']} unchanged"
        )
    return lines


def set_threshold(
    tenant: Tenant, workflow_name: str, rule: Rule, author: Author
) -> RegressionThreshold:
    """The workflow's bound on the evaluator's metric, made or replaced."""
    workflow = workflow_or_404(tenant, workflow_name)
    evaluators = Evaluator.objects.filter(workflow=workflow)
    evaluator = get_or_404(
        evaluators,
        f"{workflow.name} has no evaluator '{rule.evaluator}'.",
        details={"evaluator": rule.evaluator},
        name=rule.evaluator,
    )
    threshold, _ = RegressionThreshold.objects.update_or_create(
        evaluator=evaluator,
        metric=rule.metric,
        defaults={
            "max_drop": rule.max_drop,
            "at_least": rule.at_least,
            "updated_at": timezone.now(),
        },
        create_defaults={
            "tenant": tenant,
            "workflow": workflow,
            "max_drop": rule.max_drop,
            "at_least": rule.at_least,
            "created_by": author.user,
            "created_by_name": author.name,
        },
    )
    return threshold


def delete_threshold(tenant: Tenant, threshold_id: Any) -> None:
    thresholds = RegressionThreshold.objects.filter(tenant=tenant)
    get_or_404(thresholds, "Threshold not found.", pk=threshold_id).delete()
