"""What a product manager's browser goes through while a large comparison runs: the
dashboard (frontend/dist, built by `make frontend`) in Debian's Chromium, driven by
Playwright, opening the comparison page right after the comparison is started.

Figures per comparison, from the POST that started it:
- all shown: the page says every run finished;
- blocking: the main thread's total blocking time while the page loaded and the cells
  streamed in (the sum, over long tasks, of their time beyond 50 ms) and the longest task;
- filter: choosing a row filter on the finished grid until the page shows its count.
"""

import re
import time
from typing import Any

from playwright.sync_api import Page, sync_playwright

from bench.stack import HatchetStack
from tests.browser.pages import CHROMIUM, CHROMIUM_ARGS, PASSWORD, sign_in

USERNAME = "bench-pm"
ROW_FILTER = re.compile(r"^Show\b")
SHOWN_TIMEOUT_MS = 300_000
# Long tasks (over 50 ms) of the main thread, from the page's first script on.
WATCH_LONG_TASKS = """
window.longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.longTasks.push(entry.duration);
}).observe({ type: "longtask", buffered: true });
"""


class ComparisonWatcher:
    """A signed-in editor's browser on the stack's first server."""

    def __init__(self, stack: HatchetStack) -> None:
        stack.add_member(USERNAME, PASSWORD, "editor")
        self.driver = sync_playwright().start()
        self.browser = self.driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.context = self.browser.new_context(
            base_url=stack.url, viewport={"width": 1440, "height": 900}
        )
        self.context.add_init_script(WATCH_LONG_TASKS)
        self.page: Page = self.context.new_page()
        sign_in(self.page, USERNAME)

    def watch(self, comparison_id: str, sent: float) -> dict[str, float]:
        page = self.page
        page.goto(f"/playground/compare/{comparison_id}")
        page.get_by_text("all runs finished").wait_for(timeout=SHOWN_TIMEOUT_MS)
        shown = time.time() - sent
        long_tasks: list[float] = page.evaluate("window.longTasks")
        began = time.perf_counter()
        page.get_by_role("combobox", name=ROW_FILTER).select_option("failing")
        page.get_by_role("status").filter(has_text=" of ").wait_for()
        filtered_ms = (time.perf_counter() - began) * 1000
        page.get_by_role("combobox", name=ROW_FILTER).select_option("all")
        return {
            "browser_all_shown_s": shown,
            "browser_blocking_ms": sum(max(0.0, task - 50) for task in long_tasks),
            "browser_longest_task_ms": max(long_tasks, default=0.0),
            "browser_filter_ms": filtered_ms,
        }

    def close(self, *_exc: Any) -> None:
        self.context.close()
        self.browser.close()
        self.driver.stop()
