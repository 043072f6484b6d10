"""`manage.py playground evaluate`: the regression gate for CI. It compares a variant
against the baseline over a dataset, waits for every cell to be finished and scored,
prints the table and exits 1 on a regression, 0 without, 2 on bad arguments and 3
when the comparison did not finish in time."""

import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from hatchet.errors import ServiceError
from hatchet.management.tenants import add_tenant_arguments, tenant_from_options
from playground.gates import (
    CODE_BASELINE,
    GateVerdict,
    evaluation_verdict,
    rule_from_option,
    start_evaluation,
    table_lines,
)
from playground.services import Author

REGRESSED = 1
BAD_ARGUMENTS = 2
TIMED_OUT = 3
POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = "The playground from the command line: `evaluate` is the regression gate."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        evaluate = actions.add_parser(
            "evaluate",
            help="compare a variant with the baseline over a dataset; exit 1 on a regression",
        )
        add_tenant_arguments(evaluate)
        evaluate.add_argument("--workflow", required=True)
        evaluate.add_argument("--dataset", required=True, help="its name or id")
        evaluate.add_argument("--variant", required=True, help="its name or id")
        evaluate.add_argument(
            "--baseline",
            default=CODE_BASELINE,
            help="a variant's name or id, or 'code' (the defaults in code, the default)",
        )
        evaluate.add_argument(
            "--fail-under",
            action="append",
            default=[],
            metavar="EVALUATOR[:METRIC]=VALUE",
            help="the variant's pass rate (or mean_score) must be at least VALUE",
        )
        evaluate.add_argument(
            "--max-regression",
            action="append",
            default=[],
            metavar="EVALUATOR[:METRIC]=DROP",
            help="the variant's pass rate (or mean_score) may fall at most DROP below the "
            "baseline's",
        )
        evaluate.add_argument("--timeout", type=float, default=600.0, help="seconds (600)")
        evaluate.add_argument("--json", action="store_true", help="print the verdict as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["timeout"] <= 0:
            raise CommandError(
                "--timeout must be a positive number of seconds.", returncode=BAD_ARGUMENTS
            )
        try:
            tenant = tenant_from_options(options)
        except CommandError as error:
            raise CommandError(str(error), returncode=BAD_ARGUMENTS) from None
        try:
            rules = [rule_from_option(t, "at_least") for t in options["fail_under"]] + [
                rule_from_option(t, "max_drop") for t in options["max_regression"]
            ]
            evaluation = start_evaluation(
                tenant,
                options["workflow"],
                options["dataset"],
                options["variant"],
                Author(None, "manage.py playground evaluate"),
                baseline=options["baseline"],
                rules=rules,
            )
        except ServiceError as error:
            raise CommandError(error.message, returncode=BAD_ARGUMENTS) from None
        url = f"{settings.HATCHET_PUBLIC_URL}/playground/compare/{evaluation.comparison_id}"
        self.stderr.write(f"Comparing, and waiting for every cell to be scored: {url}")
        deadline = time.monotonic() + options["timeout"]
        verdict = evaluation_verdict(evaluation)
        while not verdict.is_finished:
            if time.monotonic() > deadline:
                self.show(verdict, options["json"])
                raise CommandError(
                    f"The comparison did not finish within {options['timeout']:g} s (are "
                    f"workers serving {verdict.workflow} running?): {url}",
                    returncode=TIMED_OUT,
                )
            time.sleep(POLL_SECONDS)
            verdict = evaluation_verdict(evaluation)
        self.show(verdict, options["json"])
        if verdict.regressed:
            reasons = "; ".join(verdict.reasons)
            raise CommandError(f"The variant regressed: {reasons}.", returncode=REGRESSED)
        self.stderr.write("No regression.")

    def show(self, verdict: GateVerdict, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(verdict.as_json(), cls=DjangoJSONEncoder, indent=2))
            return
        for line in table_lines(verdict):
            self.stdout.write(line)
        for row in verdict.regressed_rows:
            self.stdout.write(
                f"regressed: {row['title']} ({row['baseline_score']:.2f} -> {row['score']:.2f})"
            )
