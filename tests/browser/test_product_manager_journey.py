"""The product manager's journey through the prompt playground: edit the support
reply's prompt, try it on two real past tickets, compare it with the code default,
save it as a variant and open the pull request that makes it the new default."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import screenshot, sign_in
from tests.e2e.live import LiveServer, run_detail, step_run, wait_for, wait_for_status
from tests.github_server import LoopbackGitHub

pytestmark = pytest.mark.browser

WORKFLOW = "SupportReply"
DEFAULT_PROMPT = "You are a friendly support agent. Answer in two sentences."
BRIEF_PROMPT = "You are a brief support agent. Answer in one sentence."
TICKETS = [
    "My invoice was charged twice this month, please refund one of them.",
    "I cannot reset my password: the email never arrives.",
]

# Every text an output or a comparison cell shows while it streams, with its run.
WATCH_STREAMS = """() => {
  window.streamedTexts = [];
  new MutationObserver(() => {
    for (const output of document.querySelectorAll(
      ".run-output-text.streaming, .comparison-output.streaming"
    )) {
      const text = output.textContent || "";
      const box = output.closest(".run-output, .comparison-cell");
      const run = box.querySelector('a[href^="/runs/"]').getAttribute("href").slice(6);
      if (text.includes("[offline responder]")) {
        window.streamedTexts.push([run, text]);
      }
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


def past_runs(server: LiveServer) -> list[str]:
    """Two finished runs of SupportReply, and its variables in the catalog."""
    with server.api() as api:
        ids = []
        for ticket in TICKETS:
            response = api.post(f"/workflows/{WORKFLOW}/runs", json={"input": {"ticket": ticket}})
            assert response.status_code == 201, response.text
            ids.append(str(response.json()["id"]))
        for run_id in ids:
            wait_for_status(server, run_id, "SUCCEEDED")
        wait_for(
            lambda: (
                {
                    variable["name"]
                    for variable in api.get(
                        "/playground/variables", params={"workflow": WORKFLOW, "step": "draft"}
                    ).json()["results"]
                }
                == {"system_prompt", "temperature", "model"}
            )
        )
    return ids


def garbled(server: LiveServer, shown: list[list[str]]) -> list[str]:
    """The texts shown that are not the start of what their run's draft step stored:
    a word twice, missing or out of place."""
    stored: dict[str, str] = {}
    with server.api() as api:
        for run_id, _ in shown:
            if run_id not in stored:
                draft = step_run(run_detail(server, run_id), "draft")
                stored[run_id] = api.get(f"/step-runs/{draft['id']}/stream").json()["text"]
    return [text for run_id, text in shown if not stored[run_id].startswith(text)]


@pytest.mark.usefixtures("worker")
def test_a_product_manager_edits_the_prompt_compares_it_and_opens_a_pull_request(
    page: Page, hatchet_server: LiveServer, github: LoopbackGitHub
) -> None:
    past_runs(hatchet_server)
    sign_in(page, "pat")

    page.get_by_role("link", name="Playground").click()
    page.get_by_label("Workflow", exact=True).select_option(WORKFLOW)
    page.get_by_label("Step", exact=True).select_option("draft")

    prompt = page.get_by_role("textbox", name="system_prompt")
    expect(prompt).to_have_value(DEFAULT_PROMPT)
    expect(page.get_by_role("spinbutton", name="temperature")).to_have_value("0.3")
    prompt.fill(BRIEF_PROMPT)
    changes = page.get_by_role("group", name="Changes to system_prompt")
    expect(changes.locator("ins", has_text="brief")).to_be_visible()
    expect(changes.locator("del", has_text="friendly")).to_be_visible()

    # Other tests run the same tickets; the list is newest first, so the first match
    # is the run this test just made.
    search = page.get_by_label("Search past runs")
    search.fill("invoice")
    page.get_by_role("checkbox", name=re.compile("invoice was charged twice")).first.check()
    expect(page.get_by_role("checkbox", name=re.compile("cannot reset my password"))).to_have_count(
        0
    )
    search.fill("password")
    page.get_by_role("checkbox", name=re.compile("cannot reset my password")).first.check()
    search.fill("")
    expect(page.get_by_text("2 inputs chosen")).to_be_visible()

    # Record every text the outputs show while they stream, to see them grow word by word.
    page.evaluate(WATCH_STREAMS)
    page.get_by_role("button", name="Run", exact=True).click()
    outputs = page.locator(".run-output")
    expect(outputs).to_have_count(2)
    for output in outputs.all():
        expect(output).to_contain_text("[offline responder] Briefly", timeout=30_000)
        expect(output.get_by_label("draft output")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Succeeded")).to_have_count(2)
    streamed: list[list[str]] = page.evaluate("window.streamedTexts")
    partial = [text for _, text in streamed if "business day" not in text]
    assert partial, f"no partial output was shown while streaming: {streamed}"
    screenshot(page, "playground", full_page=True)

    page.get_by_role("button", name="Compare with baseline").click()
    expect(page).to_have_url(re.compile(r"/playground/compare/[0-9a-f-]+$"))
    grid = page.get_by_role("table", name="Comparison")
    expect(grid.get_by_role("columnheader", name=re.compile("Baseline"))).to_be_visible()
    expect(grid.get_by_role("columnheader", name=re.compile("Edited"))).to_be_visible()
    expect(page.get_by_text("all runs finished")).to_be_visible(timeout=30_000)
    diffs = page.get_by_role("group", name="Edited: diff against the baseline")
    expect(diffs).to_have_count(2)
    expect(diffs.first.locator("del", has_text="Thanks for reaching out")).to_be_visible()
    expect(diffs.first.locator("ins", has_text="Briefly")).to_be_visible()
    screenshot(page, "compare", full_page=True)
    # What the outputs and the cells showed while they streamed was, at every moment,
    # the start of the stream their runs stored.
    assert garbled(hatchet_server, page.evaluate("window.streamedTexts")) == []

    # Back in the playground the edit is still there; save it and open the pull request.
    page.get_by_role("link", name="Back to the playground").click()
    expect(page.get_by_role("textbox", name="system_prompt")).to_have_value(BRIEF_PROMPT)
    page.get_by_label("Variant name").fill("Brief replies")
    page.get_by_role("button", name="Save variant").click()
    expect(page.get_by_role("button", name="Load variant Brief replies")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_role("button", name="Open pull request").click()
    link = page.get_by_role("link", name=re.compile(r"Pull request #\d+"))
    expect(link).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Opened", exact=True).first).to_be_visible()
    screenshot(page, "pull-request", full_page=True)

    # The session's other journeys open pull requests of their own variants.
    [pull] = [p for p in github.pulls.values() if "'Brief replies'" in p.title]
    assert link.get_attribute("href") == f"https://github.example/acme/app/pull/{pull.number}"
    assert pull.base == "main"
    changed = github.repo.file_at(pull.head, "examples/support_reply.py")
    assert changed is not None
    assert BRIEF_PROMPT in changed.decode()
    assert DEFAULT_PROMPT not in changed.decode()
    original = github.repo.file_at("main", "examples/support_reply.py")
    assert original is not None
    assert DEFAULT_PROMPT in original.decode()


@pytest.mark.usefixtures("worker")
def test_a_viewer_sees_the_playground_read_only(page: Page, hatchet_server: LiveServer) -> None:
    past_runs(hatchet_server)
    sign_in(page, "vic")

    page.goto(f"/playground?workflow={WORKFLOW}&step=draft")

    expect(page.get_by_role("textbox", name="system_prompt")).to_have_value(DEFAULT_PROMPT)
    expect(page.get_by_role("textbox", name="system_prompt")).not_to_be_editable()
    expect(page.get_by_text("editing needs the editor role")).to_be_visible()
    for name in ("Run", "Compare with baseline", "Save variant", "Open pull request"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
