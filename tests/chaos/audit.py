"""The audit after the load has settled: every run read back from the API, beside the
triggers the harness sent, the execution records of the workers, the faults and the
processes' logs.

- runs lost: an acknowledged trigger or event with no run for its tag;
- runs stuck: not finished after the settle time; runs failed: every workflow of the
  mix succeeds when nothing is lost;
- results recorded twice: a step run with two successful attempts, a result recorded
  from another execution than the attempt that succeeded, a step made twice in a run,
  a DAG result that does not add up;
- runs created twice: one tag, two runs;
- HTTP 5xx answers to the harness's clients or the workers;
- cron ticks fired twice: two runs for one fire time of the cron;
- steps executed twice: an execution that neither counted nor failed by design is
  allowed only if its worker was killed (or died) before it could deliver the result,
  or it overran its timeout; anything else is unexplained;
- triggers refused or never accepted, processes that died on their own, and faults
  after which the system never served again;
- live updates missed: a run page's socket on one server stayed open while the run
  finished and no update said so, with no fault during the watch.
"""

from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from croniter import croniter

from tests.chaos.faults import WORKER_KILL, Fault
from tests.chaos.live import INTERRUPTED, MISSED, SEEN, TERMINAL, UNJUDGED, LiveWatch
from tests.chaos.load import ACKNOWLEDGED, DROPPED, FOUND, TAG, Trigger
from tests.chaos.logs import WORKER_SAW_5XX, Logs, final_exception, seconds_within
from tests.chaos.records import CANCELLED, RAISED, RETURNED, Execution
from tests.chaos.stack import ChaosStack
from tests.chaos.verdict import (
    CREATED_TWICE,
    CRON_TWICE,
    DIED,
    FAILED,
    INVARIANTS,
    LIVE_MISSED,
    LOST,
    NOT_ACCEPTED,
    NOT_RECOVERED,
    RECORDED_TWICE,
    SERVER_ERRORS,
    STUCK,
    UNEXPLAINED,
    Recovery,
    Verdict,
    clock,
    fmt,
)
from tests.chaos.worker_app import (
    CRON,
    CRON_EXPRESSION,
    DAG,
    OVERRUN_TIMEOUT,
    PROBE,
    RETRY,
    STEPS,
    TIMEOUT,
    dag_sum,
)

# A Redis restart also forgets the groups of the sockets that were open across it.
FAULT_AFTERMATH = 2.0
# A worker connected this long after a step returned should have had its result acked;
# killed sooner, the step running again is the worker's death, not a dropped report.
REPORT_WINDOW = 2.0
DEFAULT_STEP_TIMEOUT = 60.0

WORKER_KILLED = "its worker was SIGKILLed"
WORKER_DIED = "its worker died on its own"
HUNG = "it overran its timeout"

Run = dict[str, Any]


class Audit:
    """Reads everything back once, then checks each invariant."""

    def __init__(
        self,
        stack: ChaosStack,
        triggers: list[Trigger],
        faults: list[Fault],
        executions: list[Execution],
        live_watches: list[LiveWatch],
    ) -> None:
        self.stack = stack
        self.live_watches = live_watches
        self.api = stack.api
        self.logs = Logs(stack.logs)
        self.triggers = triggers
        self.faults = faults
        self.executions = executions
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = defaultdict(list)
        self.repeats: Counter[str] = Counter()
        # Executions that neither counted nor failed by design.
        self.wasted: list[Execution] = []
        self.cron_missed = 0
        listed = self.api.read_all("/runs")
        with ThreadPoolExecutor(8) as pool:
            details = pool.map(lambda run: self.api.read(f"/runs/{run['id']}"), listed)
            self.runs: dict[str, Run] = {run["id"]: run for run in details}
        self.runs_of_tag: dict[str, list[Run]] = defaultdict(list)
        for run in self.runs.values():
            tag = (run.get("additional_metadata") or {}).get(TAG)
            if tag:
                self.runs_of_tag[tag].append(run)
        self.step_runs: dict[str, tuple[Run, dict[str, Any]]] = {
            step_run["id"]: (run, step_run)
            for run in self.runs.values()
            for step_run in run["step_runs"]
        }
        self.executions_of: dict[str, list[Execution]] = defaultdict(list)
        for execution in executions:
            self.executions_of[execution.step_run_id].append(execution)
        self.execution = {e.execution_id: e for e in executions}

    def verdict(self, settled: str, seconds: float) -> Verdict:
        self.check_triggers()
        self.check_runs()
        self.check_step_runs()
        self.check_cron()
        self.check_server_errors()
        self.check_deaths()
        self.check_live_updates()
        recoveries = self.recoveries()
        for recovery in recoveries:
            if recovery.seconds is None:
                self.fail(NOT_RECOVERED, f"{recovery.kind} {recovery.target}: {recovery.detail}")
        sent = [t for t in self.triggers if t.state != DROPPED]
        return Verdict(
            setup=self.stack.describe(),
            run_dir=str(self.stack.run_dir),
            counts={name: self.counts[name] for name in INVARIANTS},
            examples=dict(self.examples),
            facts={
                "runs": len(self.runs),
                "runs_by_workflow": dict(
                    sorted(Counter(run["workflow"] for run in self.runs.values()).items())
                ),
                "executions": len(self.executions),
                "triggers": len(sent),
                "ambiguous": sum(1 for t in sent if t.had_unknown_outcome),
                "found": sum(1 for t in sent if t.state == FOUND),
                "resent": sum(1 for t in sent if t.sends > 1),
                "faults": ", ".join(
                    f"{kind} x{n}" for kind, n in Counter(f.kind for f in self.faults).items()
                ),
                "settled": settled,
                "cron_missed": self.cron_missed,
                "live": self.live_summary(),
            },
            repeats=dict(self.repeats),
            recoveries=recoveries,
            seconds=seconds,
        )

    def fail(self, invariant: str, example: str) -> None:
        self.counts[invariant] += 1
        self.examples[invariant].append(example)

    def check_triggers(self) -> None:
        for trigger in self.triggers:
            runs = self.runs_of_tag.get(trigger.tag, [])
            if trigger.state == DROPPED:
                if runs:
                    self.fail(CREATED_TWICE, f"a probe taken for never sent has a run: {trigger}")
            elif trigger.state not in (ACKNOWLEDGED, FOUND):
                self.fail(NOT_ACCEPTED, str(trigger))
            elif not runs:
                self.fail(
                    LOST, f"{trigger}\n" + "\n".join(self.logged(trigger.run_id, trigger.tag))
                )
            elif len(runs) > 1:
                self.fail(
                    CREATED_TWICE, f"{trigger}; runs {[(r['id'], r['created_at']) for r in runs]}"
                )

    def check_runs(self) -> None:
        for run in self.runs.values():
            if run["status"] not in TERMINAL:
                self.fail(STUCK, self.run_story(run))
            elif run["status"] != "SUCCEEDED":
                self.fail(FAILED, self.run_story(run))
            steps = sorted(step_run["step"] for step_run in run["step_runs"])
            if steps != sorted(STEPS[run["workflow"]]):
                self.fail(RECORDED_TWICE, f"run {run['id']} has the step runs {steps}")
            if run["workflow"] == DAG and run["status"] == "SUCCEEDED":
                join = next(s for s in run["step_runs"] if s["step"] == "join")
                expected = dag_sum(run["input"]["n"])
                if (join["output"] or {}).get("sum") != expected:
                    self.fail(
                        RECORDED_TWICE, f"run {run['id']}: join {join['output']}, not {expected}"
                    )

    def check_step_runs(self) -> None:
        for step_run_id, (_, step_run) in self.step_runs.items():
            succeeded = [a for a in step_run["attempts"] if a["status"] == "SUCCEEDED"]
            if len(succeeded) > 1:
                self.fail(
                    RECORDED_TWICE,
                    f"{len(succeeded)} successful attempts:\n{self.step_story(step_run_id)}",
                )
            counted = None
            if step_run["status"] == "SUCCEEDED":
                counted = self.execution.get((step_run["output"] or {}).get("execution", ""))
                if counted is None or counted.step_run_id != step_run_id:
                    self.fail(
                        RECORDED_TWICE,
                        f"its output is from no execution of it:\n{self.step_story(step_run_id)}",
                    )
                elif succeeded and counted.attempt != succeeded[-1]["number"]:
                    self.fail(
                        RECORDED_TWICE,
                        f"attempt {succeeded[-1]['number']} succeeded with the output of "
                        f"attempt {counted.attempt}:\n{self.step_story(step_run_id)}",
                    )
            self.check_repeats(step_run_id, step_run, counted)

    def check_repeats(
        self, step_run_id: str, step_run: dict[str, Any], counted: Execution | None
    ) -> None:
        """Every execution of the step run that neither counted nor failed by design
        must be explained by its worker's death or its own overrun."""
        attempts = {a["number"]: a for a in step_run["attempts"]}
        seen: set[int] = set()
        reasons = set()
        for execution in self.executions_of.get(step_run_id, []):
            again = execution.attempt in seen
            seen.add(execution.attempt)
            attempt = attempts.get(execution.attempt, {})
            if not again and (
                execution is counted or planned_failure(execution, attempt.get("status"))
            ):
                continue
            self.wasted.append(execution)
            reason = None if again else self.why_again(execution, attempt)
            if reason is None:
                why = "the same attempt ran twice" if again else "no worker death or overrun"
                self.fail(
                    UNEXPLAINED,
                    f"attempt {execution.attempt} on {execution.worker} (pid {execution.pid}) "
                    f"ran for nothing, {why}:\n" + self.step_story(step_run_id),
                )
                return
            reasons.add(reason)
        for reason in reasons:
            self.repeats[reason] += 1

    def why_again(self, execution: Execution, attempt: dict[str, Any]) -> str | None:
        for kill in self.stack.kills:
            if kill.pid != execution.pid or kill.at < execution.started_at:
                continue
            # Its result could have been delivered only while its worker was connected.
            ended = kill.at if execution.ended_at is None else execution.ended_at
            spans = self.logs.connected_spans(kill.name)
            if seconds_within(spans, ended, kill.at) < REPORT_WINDOW:
                return WORKER_KILLED if kill.on_purpose else WORKER_DIED
        timeout = OVERRUN_TIMEOUT if execution.workflow == TIMEOUT else DEFAULT_STEP_TIMEOUT
        overran = execution.outcome != RETURNED or (execution.duration or 0) > timeout
        if attempt.get("status") == "TIMED_OUT" and overran:
            return HUNG
        return None

    def check_cron(self) -> None:
        runs = sorted(
            (run for run in self.runs.values() if run["workflow"] == CRON),
            key=lambda run: run["created_at"],
        )
        fire_times = [datetime.fromisoformat(run["fire_time"]) for run in runs]
        fired_twice, self.cron_missed = cron_fires(fire_times)
        for index in fired_twice:
            run = runs[index]
            self.fail(
                CRON_TWICE,
                f"run {run['id']} created {run['created_at']} fired for {run['fire_time']}, "
                f"which has a run already; the cron's runs around it: "
                f"{self.cron_runs_near(runs, fire_times[index])}",
            )

    @staticmethod
    def cron_runs_near(runs: list[Run], at: datetime) -> list[tuple[str, str, str]]:
        window = timedelta(seconds=10)
        return [
            (run["id"], run["fire_time"], run["created_at"])
            for run in runs
            if abs(datetime.fromisoformat(run["fire_time"]) - at) <= window
        ]

    def check_server_errors(self) -> None:
        """5xx answers to the harness's clients, and to the workers' (their logs)."""
        for answer in self.api.server_errors:
            server = self.stack.servers[answer.server].name
            self.fail(
                SERVER_ERRORS,
                f"{answer.request} -> {answer.status} at {clock(answer.at)} from "
                f"{server}: {answer.body[:300]}\n"
                + "\n".join(self.logs.errors_near(server, answer.at)),
            )
        for worker in self.logs.names("worker-*"):
            for logged, lines in self.logs.records(worker):
                if logged is not None and WORKER_SAW_5XX.search(lines[0]):
                    near = [
                        line
                        for server in self.stack.servers
                        for line in self.logs.errors_near(server.name, logged)
                    ]
                    self.fail(SERVER_ERRORS, f"{worker}: {lines[0][:300]}\n" + "\n".join(near))

    def check_deaths(self) -> None:
        for kill in self.stack.kills:
            if not kill.on_purpose:
                tail = kill.log_tail.splitlines()
                self.fail(
                    DIED,
                    f"{kill.name} (pid {kill.pid}) exited with {kill.exit_code} at "
                    f"{clock(kill.at)}: {final_exception(tail)}\n"
                    + "\n".join(f"    {line[:200]}" for line in tail[-4:]),
                )

    def check_live_updates(self) -> None:
        for watch in self.live_watches:
            if watch.outcome == MISSED and not self.faults_during(watch):
                self.fail(
                    LIVE_MISSED,
                    f"run {watch.run_id} started via server-{watch.via + 1}, watched on "
                    f"server-{watch.watched_on + 1} from {clock(watch.started_at)} to "
                    f"{clock(watch.ended_at)}: {watch.detail}",
                )

    def faults_during(self, watch: LiveWatch) -> list[Fault]:
        """The faults that could have cost a watch its update: injected before it ended,
        and repaired (a moment later) after it began."""
        return [
            fault
            for fault in self.faults
            if fault.injected_at <= watch.ended_at
            and watch.started_at <= (fault.restored_at or float("inf")) + FAULT_AFTERMATH
        ]

    def live_summary(self) -> str:
        outcomes = Counter(watch.outcome for watch in self.live_watches)
        seen = [w.seconds for w in self.live_watches if w.seconds is not None]
        during = sum(1 for w in self.live_watches if w.outcome == MISSED and self.faults_during(w))
        return (
            f"{len(self.live_watches)} watches, each on the server after the trigger's: "
            f"{outcomes[SEEN]} saw the run end (after {fmt(median(seen) if seen else None)} s "
            f"p50), {outcomes[INTERRUPTED]} lost their socket to a fault, {during} missed "
            f"the end during a fault, {outcomes[UNJUDGED]} unjudged"
        )

    def recoveries(self) -> list[Recovery]:
        """Per fault: the time until a probe sent through each server after the fault
        has succeeded and, for a killed worker, until the step runs it held are done."""
        probes = [t for t in self.triggers if t.workflow == PROBE]
        recoveries = []
        for number, fault in enumerate(self.faults):
            following = self.faults[number + 1 :]
            until = following[0].injected_at if following else float("inf")
            after = [p for p in probes if fault.injected_at <= (p.first_sent_at or 0) < until]
            # When each server served again and each held step run ended; None: never.
            done: list[float | None] = [
                self.first_probe_done([p for p in after if p.server == server])
                for server in range(len(self.stack.servers))
            ]
            notes = []
            troubled = sum(1 for p in after if p.problems)
            if troubled:
                notes.append(f"{troubled} of {len(after)} probes refused or failed meanwhile")
            if fault.kind == WORKER_KILL:
                held = self.held_by_kill(fault)
                note = f"{len(held)} step runs it held"
                if held:
                    starts = [start - fault.injected_at for start, _ in held]
                    note += f" started again after {fmt(min(starts))}-{fmt(max(starts))} s"
                notes.append(note)
                done.extend(ended for _, ended in held)
            ended = [at for at in done if at is not None]
            served = max(ended) if ended and len(ended) == len(done) else None
            recoveries.append(
                Recovery(
                    kind=fault.kind,
                    target=fault.target,
                    detail=fault.detail,
                    seconds=None if served is None else served - fault.injected_at,
                    down_seconds=(
                        None if fault.restored_at is None else fault.restored_at - fault.injected_at
                    ),
                    note="; ".join(notes),
                )
            )
        return recoveries

    def first_probe_done(self, probes: list[Trigger]) -> float | None:
        finished = [
            datetime.fromisoformat(run["finished_at"]).timestamp()
            for probe in probes
            if probe.state in (ACKNOWLEDGED, FOUND)
            for run in self.runs_of_tag.get(probe.tag, [])
            if run["status"] == "SUCCEEDED"
        ]
        return min(finished, default=None)

    def held_by_kill(self, fault: Fault) -> list[tuple[float, float | None]]:
        """(next execution's start, the step run's end) of each step run whose execution
        on the killed worker did not count."""
        kill = next(
            (k for k in self.stack.kills if k.on_purpose and k.at >= fault.injected_at), None
        )
        if kill is None:
            return []
        held = []
        for execution in self.wasted:
            later = [e for e in self.executions_of[execution.step_run_id] if e.started_at > kill.at]
            if execution.pid == kill.pid and later:
                _, step_run = self.step_runs[execution.step_run_id]
                finished = step_run["finished_at"]
                ended = datetime.fromisoformat(finished).timestamp() if finished else None
                held.append((later[0].started_at, ended))
        return held

    def run_story(self, run: Run) -> str:
        lines = [
            f"run {run['id']} {run['workflow']} {run['status']} created {run['created_at']} "
            f"metadata {run.get('additional_metadata')} error {run.get('error')!r}"
        ]
        lines += [self.step_story(step_run["id"], with_logs=False) for step_run in run["step_runs"]]
        return "\n".join(lines + self.logged(run["id"]))

    def step_story(self, step_run_id: str, with_logs: bool = True) -> str:
        """The step run's attempts as the API tells them, its executions as the workers
        recorded them, the kills of those workers, and the log lines that name it."""
        run, step_run = self.step_runs[step_run_id]
        lines = [
            f"step run {step_run_id} ({run['workflow']}.{step_run['step']}, run {run['id']}) "
            f"{step_run['status']}, retry_count {step_run['retry_count']}, "
            f"error {step_run['error']!r}"
        ]
        for attempt in step_run["attempts"]:
            lines.append(
                f"  attempt {attempt['number']}: {attempt['status']} on {attempt['worker_name']}, "
                f"assigned {attempt['assigned_at']}, started {attempt['started_at']}, "
                f"finished {attempt['finished_at']}, error {str(attempt['error'])[:200]!r}"
            )
        executions = self.executions_of.get(step_run_id, [])
        for execution in executions:
            lines.append(
                f"  executed: attempt {execution.attempt} on {execution.worker} "
                f"(pid {execution.pid}) from {clock(execution.started_at)} "
                f"to {clock(execution.ended_at)}: {execution.outcome}"
            )
        for kill in self.stack.kills:
            if any(e.pid == kill.pid for e in executions):
                what = "SIGKILLed" if kill.on_purpose else "died"
                lines.append(f"  {kill.name} (pid {kill.pid}) {what} at {clock(kill.at)}")
        if with_logs:
            workers = sorted({str(a["worker_id"]) for a in step_run["attempts"] if a["worker_id"]})
            lines += self.logged(step_run_id, *workers)
        return "\n".join(lines)

    def logged(self, *ids: str | None) -> list[str]:
        return self.logs.naming([i for i in ids if i])


def cron_fires(fire_times: list[datetime]) -> tuple[list[int], int]:
    """Which of the cron's runs (the fire times they record, in order of creation) fired
    a fire time that an earlier run had fired, and how many fire times between the
    first and the last started none (after downtime the missed fire times fire once,
    late, as one run for the first of them)."""
    fired: dict[datetime, int] = {}
    fired_twice = []
    for index, fire_time in enumerate(fire_times):
        if fire_time in fired:
            fired_twice.append(index)
        fired[fire_time] = index
    missed = 0
    if fired:
        expected = croniter(CRON_EXPRESSION, min(fired), second_at_beginning=True)
        while (fire_time := expected.get_next(datetime)) < max(fired):
            missed += fire_time not in fired
    return fired_twice, missed


def planned_failure(execution: Execution, attempt_status: str | None) -> bool:
    """The first try of ChaosRetry fails and that of ChaosTimeout overruns, by design."""
    if execution.retry_count != 0:
        return False
    if execution.workflow == RETRY:
        return execution.outcome == RAISED
    if execution.workflow == TIMEOUT:
        return execution.outcome == CANCELLED or attempt_status == "TIMED_OUT"
    return False
