from typing import Any

import pytest

from hatchet.sdk import Concurrency, Context, DesiredLabel, Hatchet, RateLimit
from hatchet.sdk.workflow import step, workflow, workflow_spec_of

hatchet = Hatchet("http://127.0.0.1:1", token="t")


def test_definition_matches_the_protocol():
    @hatchet.workflow(
        on_events=["ticket:created"],
        on_crons=["*/15 * * * *"],
        timeout="10m",
        schedule_timeout="5m",
    )
    class SupportReply:
        """Answers tickets."""

        @hatchet.step(
            timeout="30s", retries=3, backoff={"initial": "1s", "factor": 2, "max": "60s"}
        )
        def draft(self, _context: Context) -> dict:
            return {}

        @hatchet.step(parents=["draft"])
        async def review(self, _context: Context) -> dict:
            return {}

    spec = workflow_spec_of(SupportReply())
    assert spec.action("draft") == "SupportReply:draft"
    assert spec.to_definition() == {
        "name": "SupportReply",
        "description": "Answers tickets.",
        "version": "",
        "on_events": ["ticket:created"],
        "on_crons": ["*/15 * * * *"],
        "timeout": "10m",
        "schedule_timeout": "5m",
        "steps": [
            {
                "name": "draft",
                "parents": [],
                "retries": 3,
                "timeout": "30s",
                "backoff": {"initial": "1s", "factor": 2, "max": "60s"},
            },
            {"name": "review", "parents": ["draft"], "retries": 0},
        ],
    }


def test_defaults_leave_unset_keys_to_the_server():
    @workflow()
    class Bare:
        @step()
        def only(self, _context):
            return None

    assert workflow_spec_of(Bare).to_definition() == {
        "name": "Bare",
        "description": "",
        "version": "",
        "on_events": [],
        "on_crons": [],
        "steps": [{"name": "only", "parents": [], "retries": 0}],
    }


def test_name_overrides_the_class_name_and_methods_stay_callable():
    @workflow(name="renamed", description="d", version="v2")
    class Original:
        @step()
        def one(self, _context):
            return 1

    spec = workflow_spec_of(Original)
    assert (spec.name, spec.description, spec.version) == ("renamed", "d", "v2")
    assert spec.action("one") == "renamed:one"
    assert Original().one(None) == 1


def test_subclass_inherits_and_adds_steps():
    class Base:
        @step()
        def fetch(self, _context):
            return 1

    @workflow()
    class Child(Base):
        @step(parents=["fetch"])
        def use(self, _context):
            return 2

    assert [s.name for s in workflow_spec_of(Child).steps] == ["fetch", "use"]


def test_unknown_parent_is_refused():
    with pytest.raises(ValueError, match="step 'b' of workflow 'W' has an unknown parent 'nope'"):

        @workflow()
        class W:
            @step()
            def a(self, context): ...

            @step(parents=["nope"])
            def b(self, context): ...


def test_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle among steps a, b"):

        @workflow()
        class W:
            @step(parents=["b"])
            def a(self, context): ...

            @step(parents=["a"])
            def b(self, context): ...


def test_own_parent_and_duplicate_parents_are_refused():
    with pytest.raises(ValueError, match="cannot be its own parent"):

        @step(parents=["a"])
        def a(self, context): ...

    with pytest.raises(ValueError, match="lists x more than once"):
        step(parents=["x", "x"])


@pytest.mark.parametrize("retries", [-1, 1.5, True, "3"])
def test_bad_retries_are_refused(retries):
    with pytest.raises(ValueError, match="retries must be a non-negative integer"):
        step(retries=retries)


def test_bad_durations_are_refused():
    with pytest.raises(ValueError, match="invalid duration '30'"):
        step(timeout="30")
    with pytest.raises(ValueError, match="step timeout must be longer than zero"):
        step(timeout="0s")
    with pytest.raises(ValueError, match="invalid duration '10 minutes'"):
        workflow(timeout="10 minutes")
    with pytest.raises(ValueError, match="invalid duration 'soon'"):
        workflow(schedule_timeout="soon")


@pytest.mark.parametrize(
    ("backoff", "message"),
    [
        ({"initial": "1x"}, "invalid duration '1x'"),
        ({"max": "0s"}, "backoff max must be longer than zero"),
        ({"factor": 0.5}, "backoff factor must be a number from 1 to 10, got 0.5"),
        ({"factor": 11}, "backoff factor must be a number from 1 to 10"),
        ({"factor": "2"}, "backoff factor must be a number from 1 to 10"),
        ({"jitter": True}, "unknown backoff keys jitter"),
    ],
)
def test_bad_backoff_is_refused(backoff, message):
    with pytest.raises(ValueError, match=message):
        step(backoff=backoff)


def test_bad_triggers_and_names_are_refused():
    with pytest.raises(TypeError, match="on_events must be a list of strings"):
        workflow(on_events="ticket:created")
    with pytest.raises(ValueError, match="on_crons must hold non-empty strings"):
        workflow(on_crons=[""])
    with pytest.raises(ValueError, match="invalid workflow name 'a:b': use letters"):

        @workflow(name="a:b")
        class W:
            @step()
            def s(self, context): ...


def test_workflow_without_steps_is_refused():
    with pytest.raises(ValueError, match="workflow 'Empty' has no steps"):

        @workflow()
        class Empty:
            def not_a_step(self, context): ...


def test_undecorated_class_is_not_a_workflow():
    class Plain:
        pass

    with pytest.raises(TypeError, match="Plain is not a workflow"):
        workflow_spec_of(Plain())


def test_the_on_failure_step_is_declared_outside_the_dag():
    @hatchet.workflow()
    class Charge:
        @hatchet.step(retries=2)
        def charge(self, context): ...

        @hatchet.on_failure_step(timeout="10s")
        def notify(self, context): ...

    steps = workflow_spec_of(Charge).to_definition()["steps"]
    assert steps == [
        {"name": "charge", "parents": [], "retries": 2},
        {"name": "notify", "parents": [], "retries": 0, "timeout": "10s", "on_failure": True},
    ]


def test_misplaced_on_failure_steps_are_refused():
    with pytest.raises(ValueError, match="'W' has more than one @on_failure_step: a, b"):

        @workflow()
        class W:
            @step()
            def work(self, context): ...

            @hatchet.on_failure_step()
            def a(self, context): ...

            @hatchet.on_failure_step()
            def b(self, context): ...

    with pytest.raises(ValueError, match="'Only' has only its @on_failure_step"):

        @workflow()
        class Only:
            @hatchet.on_failure_step()
            def a(self, context): ...

    with pytest.raises(ValueError, match="step 'after' of workflow 'W2' cannot wait for the"):

        @workflow()
        class W2:
            @step()
            def work(self, context): ...

            @hatchet.on_failure_step()
            def handler(self, context): ...

            @step(parents=["handler"])
            def after(self, context): ...


def test_a_workflow_priority_goes_into_its_definition_and_is_checked():
    @hatchet.workflow(priority=3)
    class Urgent:
        @hatchet.step()
        def work(self, context): ...

    assert workflow_spec_of(Urgent).to_definition()["priority"] == 3
    bad: Any
    for bad in (0, 5, True, "4"):
        with pytest.raises(ValueError, match="priority must be an integer from 1 to 4"):
            hatchet.workflow(priority=bad)


def test_a_concurrency_limit_goes_into_the_definition_and_is_checked():
    @hatchet.workflow(concurrency=Concurrency(key="input.customer", max_runs=3, scope="c"))
    class PerCustomer:
        @hatchet.step()
        def work(self, context): ...

    assert workflow_spec_of(PerCustomer).to_definition()["concurrency"] == {
        "key": "input.customer",
        "max_runs": 3,
        "strategy": "GROUP_ROUND_ROBIN",
        "scope": "c",
    }
    with pytest.raises(ValueError, match=r"a path such as 'input\.customer_id', not 'customer'"):
        Concurrency(key="customer")
    with pytest.raises(ValueError, match="strategy must be one of GROUP_ROUND_ROBIN"):
        Concurrency(key="input.c", strategy="FIFO")
    with pytest.raises(ValueError, match="max_runs must be a positive integer"):
        Concurrency(key="input.c", max_runs=0)


def test_rate_limits_of_a_step_go_into_its_definition():
    @hatchet.workflow()
    class Limited:
        @hatchet.step(
            rate_limits=[
                RateLimit(key="llm"),
                RateLimit(dynamic_key="input.user", units="input.tokens", limit=9, period="hour"),
            ]
        )
        def work(self, context): ...

    [work] = workflow_spec_of(Limited).to_definition()["steps"]
    assert work["rate_limits"] == [
        {"key": "llm", "units": 1},
        {"dynamic_key": "input.user", "units": "input.tokens", "limit": 9, "period": "hour"},
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "either key= or dynamic_key="),
        ({"key": "a", "dynamic_key": "input.a"}, "either key= or dynamic_key="),
        ({"key": "a", "limit": 3}, "limit and period go with dynamic_key"),
        ({"key": "a", "units": 0}, "units must be a positive integer or a path"),
        ({"key": "a", "units": "tokens"}, "units must be a path such as"),
        ({"dynamic_key": "user", "limit": 1, "period": "minute"}, "dynamic_key must be a path"),
        ({"dynamic_key": "input.user", "period": "minute"}, "needs limit="),
        ({"dynamic_key": "input.user", "limit": 1, "period": "week"}, "needs period="),
    ],
)
def test_a_bad_rate_limit_is_refused_where_it_is_declared(arguments, message):
    with pytest.raises(ValueError, match=message):
        RateLimit(**arguments)


def test_rate_limits_must_be_rate_limit_objects():
    with pytest.raises(TypeError, match="rate_limits must be RateLimit"):
        step(rate_limits=[{"key": "llm"}])  # type: ignore[list-item]


def test_labels_sticky_and_a_steps_concurrency_go_into_the_definition():
    @hatchet.workflow(sticky="hard")
    class Picky:
        @hatchet.step(
            desired_worker_labels={"gpu": DesiredLabel(True, required=True)},
            concurrency=Concurrency(key="input.customer", max_runs=2),
        )
        def work(self, context): ...

    definition = workflow_spec_of(Picky).to_definition()
    assert definition["sticky"] == "hard"
    [work] = definition["steps"]
    assert work["desired_worker_labels"] == {
        "gpu": {"value": True, "comparator": "=", "required": True, "weight": 100}
    }
    assert work["concurrency"] == {
        "key": "input.customer",
        "max_runs": 2,
        "strategy": "GROUP_ROUND_ROBIN",
    }


def test_bad_labels_sticky_or_step_concurrency_are_refused_where_declared():
    with pytest.raises(ValueError, match="sticky must be 'soft' or 'hard'"):
        hatchet.workflow(sticky="always")
    with pytest.raises(ValueError, match="> compares numbers only"):
        DesiredLabel("a", comparator=">")
    with pytest.raises(ValueError, match="comparator must be one of"):
        DesiredLabel(1, comparator="~")
    with pytest.raises(TypeError, match="desired_worker_labels must map label names"):
        step(desired_worker_labels={"gpu": True})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="a step's concurrency waits its turn"):
        step(concurrency=Concurrency(key="input.c", strategy="CANCEL_NEWEST"))
