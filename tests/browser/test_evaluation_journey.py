"""The product manager judges a prompt with numbers: real tickets saved as a dataset
from the runs list, a check and an LLM judge configured without code, the variant
compared with the code defaults over the dataset and scored cell by cell, a blind
vote, and the pull request that carries the comparison as its evidence."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import screenshot, sign_in
from tests.browser.test_product_manager_journey import (
    BRIEF_PROMPT,
    DEFAULT_PROMPT,
    WORKFLOW,
    past_runs,
)
from tests.e2e.live import LiveServer, wait_for
from tests.github_server import LoopbackGitHub

pytestmark = pytest.mark.browser

DATASET = "Tickets to judge"
VARIANT = "Brief and judged"
# The offline responder thanks the customer only with the code's default prompt.
CHECK_TEXT = "Thanks for reaching out"


@pytest.mark.usefixtures("worker")
def test_a_product_manager_judges_a_variant_over_a_dataset_and_its_pull_request_shows_it(
    page: Page, hatchet_server: LiveServer, github: LoopbackGitHub
) -> None:
    tickets = past_runs(hatchet_server)
    sign_in(page, "pat")

    # Real tickets become a dataset, from the runs list.
    page.goto(f"/runs?workflow={WORKFLOW}")
    for run_id in tickets:
        page.get_by_label(f"Select run {run_id}").check()
    form = page.get_by_role("form", name="Add to dataset")
    form.get_by_label("Dataset").select_option(label="New dataset…")
    form.get_by_label("New dataset's name").fill(DATASET)
    form.get_by_role("button", name="Create dataset").click()
    form.get_by_role("button", name="Add to dataset").click()
    expect(page.get_by_role("status")).to_contain_text(f"Added to {DATASET}: v1, with 2 rows.")

    # A check and a judge, configured without code.
    page.get_by_role("link", name="Evaluators").click()
    new = page.get_by_role("form", name="New evaluator")
    new.get_by_label("Workflow").select_option(WORKFLOW)
    new.get_by_label("Name").fill("thanks the customer")
    new.get_by_label("Kind").select_option(label="Contains")
    new.get_by_label("Text").fill(CHECK_TEXT)
    new.get_by_role("button", name="Add evaluator").click()
    expect(page.get_by_role("cell", name=f'contains "{CHECK_TEXT}"')).to_be_visible()
    new.get_by_label("Name").fill("answers the ticket")
    new.get_by_label("Kind").select_option(label="LLM judge")
    new.get_by_label("Rubric").fill("Says that a teammate will follow up on the message.")
    new.get_by_role("button", name="Add evaluator").click()
    expect(page.get_by_role("cell", name=re.compile("a teammate will follow up"))).to_be_visible()
    page.get_by_role("button", name="Try thanks the customer").click()
    attempt = page.get_by_role("form", name="Try thanks the customer")
    attempt.get_by_label("Output to try").fill("Hello. Thanks for reaching out!")
    attempt.get_by_role("button", name="Evaluate").click()
    expect(attempt.get_by_role("status")).to_contain_text("Pass")
    screenshot(page, "evaluators", full_page=True)

    # The brief prompt, saved as a variant and compared over the dataset.
    page.goto(f"/playground?workflow={WORKFLOW}&step=draft")
    prompt = page.get_by_role("textbox", name="system_prompt")
    expect(prompt).to_have_value(DEFAULT_PROMPT)
    prompt.fill(BRIEF_PROMPT)
    page.get_by_label("Variant name").fill(VARIANT)
    page.get_by_role("button", name="Save variant").click()
    expect(page.get_by_role("button", name=f"Load variant {VARIANT}")).to_have_attribute(
        "aria-pressed", "true"
    )
    over = page.get_by_role("group", name="Compare over a dataset")
    over.get_by_label("Dataset").select_option(label=f"{DATASET} (2 rows)")
    page.get_by_role("button", name="Compare with baseline").click()
    expect(page).to_have_url(re.compile(r"/playground/compare/[0-9a-f-]+$"))
    expect(page.get_by_text("all runs finished")).to_be_visible(timeout=30_000)

    # Every cell is scored; the variant's column is worse than the defaults on the check.
    grid = page.get_by_role("table", name="Comparison")
    baseline_scores = grid.get_by_role("list", name="Baseline (code defaults) scores")
    variant_scores = grid.get_by_role("list", name=f"{VARIANT} r1 scores")
    expect(baseline_scores).to_have_count(2)
    expect(variant_scores).to_have_count(2)
    judged = re.compile(r"answers the ticket: [✓✗] \d\.\d\d")
    for scores in baseline_scores.all():
        expect(scores).to_contain_text("thanks the customer: ✓ 1.00", timeout=30_000)
        expect(scores).to_contain_text(judged, timeout=30_000)
    for scores in variant_scores.all():
        expect(scores).to_contain_text("thanks the customer: ✗ 0.00", timeout=30_000)
        expect(scores).to_contain_text(judged, timeout=30_000)
    summary = page.get_by_label(f"{VARIANT} r1 summary")
    expect(summary).to_contain_text("thanks the customer: 0% pass", timeout=30_000)
    expect(summary).to_contain_text("2 worse")
    page.get_by_role("combobox", name=re.compile("^Show")).select_option("regressions")
    expect(page.get_by_role("status").filter(has_text="2 of 2 inputs")).to_be_visible()
    screenshot(page, "judged-comparison", full_page=True)
    comparison_url = page.url

    # A blind vote on the two answers to each ticket.
    page.get_by_role("link", name="Blind review").click()
    for remaining in ("2 inputs left", "1 input left"):
        expect(page.get_by_text(remaining)).to_be_visible()
        page.get_by_role("button", name="Left is better").click()
    expect(page.get_by_text("Every input has your vote for these two columns.")).to_be_visible()

    # The pull request carries the comparison: in its body, a comment and a status.
    page.goto(f"/playground?workflow={WORKFLOW}&step=draft")
    page.get_by_role("button", name=f"Load variant {VARIANT}").click()
    page.get_by_role("button", name="Open pull request").click()
    expect(page.get_by_role("link", name=re.compile(r"Pull request #\d+"))).to_be_visible(
        timeout=30_000
    )
    pull = wait_for(
        lambda: next(
            (p for p in github.pulls.values() if VARIANT in p.title and "### Evaluation" in p.body),
            None,
        )
    )
    assert "### Evaluation: regressed" in pull.body
    assert comparison_url.removeprefix(hatchet_server.url) in pull.body
    head = github.repo.head(pull.head)
    assert head is not None
    status = wait_for(lambda: github.latest_status(head, "hatchet/evaluation"))
    assert status.state == "failure"
    assert "thanks the customer" in status.description
    changed = github.repo.file_at(pull.head, "examples/support_reply.py")
    assert changed is not None
    assert BRIEF_PROMPT in changed.decode()
