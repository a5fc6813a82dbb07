"""Long jobs as people see them: progress and the result in the tab, team toasts, the live Jobs page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import open_app_page, open_live_page

REPORT = "/t/acme/apps/reports/"
# Every text the message shows, however briefly (assertions poll, and progress moves fast).
RECORD_MESSAGES = """
window.__messages = [];
new MutationObserver(() => window.__messages.push(document.getElementById("message").textContent))
  .observe(document.getElementById("app-root"), {childList: true, subtree: true, characterData: true});
"""

# Every toast the page shows, however briefly (they leave after their duration).
RECORD_TOASTS = """
window.__toasts = [];
new MutationObserver((changes) => changes.forEach((change) => change.addedNodes.forEach((node) => {
  if (node.classList && node.classList.contains("toast")) {
    window.__toasts.push(node.querySelector(".toast-message").textContent);
  }
}))).observe(document.body, {childList: true, subtree: true});
"""


def build(page: Page, steps: int) -> None:
    page.get_by_label("Steps").fill(str(steps))
    page.wait_for_timeout(400)  # the number input sends its change after a short delay
    page.get_by_role("button", name="Build the report").click()


def test_progress_and_the_result_reach_the_tab(people) -> None:
    page = open_app_page(people("avery"), REPORT)
    page.evaluate(RECORD_MESSAGES)
    build(page, 5)
    expect(page.locator("#status")).to_have_text("Report built.", timeout=15_000)
    seen = page.evaluate("window.__messages")
    assert [f"Step {n} of 5" for n in range(1, 6)] == [m for m in dict.fromkeys(seen) if m], seen
    expect(page.locator("#message")).to_have_text("")  # the last step is not left beside the result
    expect(page.locator("#rows .dc-metric-value")).to_have_text("5000")
    expect(page.locator("#bar progress")).to_have_attribute("value", "100")
    expect(page.locator(".toast").filter(has_text="Report built.")).to_be_visible()  # the toast, not the line


def test_the_team_hears_when_the_job_ends_and_other_tenants_do_not(people) -> None:
    avery = people("avery")
    avery_app = open_app_page(avery, REPORT)  # Analysts, starts the job
    avery_home = open_live_page(avery, "/t/acme/")  # the starter, on another page
    alice_home = open_live_page(people("alice"), "/t/acme/")  # Analysts, elsewhere on the platform
    greta_home = open_live_page(people("greta"), "/t/globex/")  # another tenant
    build(avery_app, 3)
    for page in (alice_home, avery_home):
        toast = page.locator(".toast").filter(has_text="Quarterly report: Build report finished")
        expect(toast).to_be_visible(timeout=15_000)
        link = toast.get_by_role("link", name="Open")
        expect(link).to_have_attribute("href", re.compile(r"^/t/acme/jobs/\d+/$"))
    greta_home.wait_for_timeout(500)
    expect(greta_home.locator(".toast")).to_have_count(0)
    toast = alice_home.locator(".toast").filter(has_text="Build report finished")
    toast.get_by_role("link", name="Open").click()
    expect(alice_home.get_by_role("heading", name="Result")).to_be_visible()
    expect(alice_home.locator(".job-result")).to_have_text("3000")


def test_the_tab_that_started_the_job_shows_its_end_once(people) -> None:
    """The app's status function tells the starter in that tab; the team's toast of the same end
    goes to their other pages only (the tab's inbox badge still counts it)."""
    avery = people("avery")
    avery_app = open_app_page(avery, REPORT)
    avery_app.evaluate(RECORD_TOASTS)
    avery_home = open_live_page(avery, "/t/acme/")
    build(avery_app, 2)
    expect(avery_home.locator(".toast").filter(has_text="Quarterly report: ")).to_be_visible(timeout=15_000)
    expect(avery_app.locator(".toast").filter(has_text="Report built.")).to_be_visible()
    badge = avery_home.locator("#inbox-badge").get_attribute("data-count")
    expect(avery_app.locator("#inbox-badge")).to_have_attribute("data-count", badge or "")
    avery_app.wait_for_timeout(1000)  # the team's toast, had it come, came with the badge
    assert avery_app.evaluate("window.__toasts") == ["Success: Report built."]


def test_a_tab_whose_status_function_shows_no_toast_gets_the_toast_of_the_end(people) -> None:
    """That tab held the toast of the end back for its status function; one that told the end in
    the page alone (no notify) left its user with no toast at all."""
    avery_app = open_app_page(
        people("avery"), "/t/acme/apps/edges/"
    )  # an app with no team: its starter is told
    avery_app.evaluate(RECORD_TOASTS)
    avery_app.get_by_role("button", name="Tally quietly").click()
    expect(avery_app.locator("#tallied")).to_have_text("tallied: 42", timeout=15_000)
    toast = avery_app.locator(".toast").filter(has_text="Edges: Tally finished")
    expect(toast).to_be_visible()
    expect(toast.get_by_role("link", name="Open")).to_have_attribute(
        "href", re.compile(r"^/t/acme/jobs/\d+/$")
    )
    avery_app.wait_for_timeout(1000)
    assert [text for text in avery_app.evaluate("window.__toasts") if "Tally" in text] == [
        "Success: Edges: Tally finished"
    ]  # once


def test_the_jobs_page_moves_live_and_stops_a_running_job(people) -> None:
    jobs_page = open_live_page(people("adam"), "/t/acme/jobs/")  # a developer of Acme
    console_errors: list[str] = []
    jobs_page.on("console", lambda line: line.type == "error" and console_errors.append(line.text))
    avery_app = open_app_page(people("avery"), REPORT)
    build(avery_app, 40)  # 8 seconds
    row = jobs_page.locator("tr.job-row").filter(has_text="Build report").first
    expect(row.get_by_test_id("job-status")).to_have_text("Running", timeout=10_000)
    expect(row.locator("progress")).to_be_visible()
    expect(row.locator(".job-message")).to_contain_text("Step")
    region = jobs_page.locator('div[role="status"]:has(#messages)').element_handle()
    row.get_by_role("button", name="Stop").focus()
    jobs_page.keyboard.press("Enter")  # from the keyboard: the row is swapped, not the whole page
    stopped = jobs_page.locator("tr.job-row").filter(has_text="Build report").first
    expect(stopped.get_by_test_id("job-status")).to_have_text("Stopped")
    expect(jobs_page.get_by_role("status").filter(has_text="stopped.")).to_be_visible()  # "Job #1 stopped."
    # read out: the live region there before the swap is the one that holds it
    assert region.evaluate("node => node.isConnected && node.textContent.includes('stopped.')")
    expect(stopped.get_by_role("button", name="Retry")).to_be_focused()  # not back at the page's top
    expect(avery_app.locator("#status")).to_have_text(
        "The report did not finish: the job was stopped.", timeout=10_000
    )  # the tab's status function ran with False, and error= said why
    # Retried by its user from their Jobs page: the tab follows the new run, and says so.
    own_jobs = open_live_page(people("avery"), "/t/acme/jobs/")
    own_row = own_jobs.locator("tr.job-row").filter(has_text="Build report").first
    own_row.get_by_role("button", name="Retry").click()
    expect(avery_app.locator("#status")).to_have_text("Building…", timeout=10_000)
    expect(avery_app.locator("#message")).to_contain_text("Step", timeout=10_000)
    retried = own_jobs.locator("tr.job-row").filter(has_text="Running").first
    retried.get_by_role("button", name="Stop").click()
    expect(avery_app.locator("#status")).to_have_text(
        "The report did not finish: the job was stopped.", timeout=10_000
    )
    assert console_errors == []  # the job's outcome, for its own page, is not swapped into this one


def test_a_number_the_app_clamps_shows_what_the_app_uses_once_the_user_leaves_it(people) -> None:
    """-5 steps: the report builds 1 step; the field says so once the user has left it, not while
    they type (typing is never overwritten)."""
    page = open_app_page(people("avery"), REPORT)
    steps = page.get_by_label("Steps")
    steps.fill("-5")
    page.wait_for_timeout(400)  # sent while typing: the field keeps what the user typed
    expect(steps).to_have_value("-5")
    steps.press("Tab")
    expect(steps).to_have_value("1")
