"""Scenarios as people see them: the app's components, and the tenant's Scenarios page moving live."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import WebSocketRoute, expect

from tests.browser.conftest import open_app_page, open_live_page

PLANNER = "/t/acme/apps/planner/"


def test_a_scenario_created_in_the_app_appears_on_a_colleagues_page_and_completes(people) -> None:
    alice_list = open_live_page(people("alice"), "/t/acme/scenarios/")
    expect(alice_list.locator("tr.scenario-row").filter(has_text="Baseline")).to_be_visible()
    avery_app = open_app_page(people("avery"), PLANNER)
    expect(avery_app.locator("#selector select option").filter(has_text="Baseline (draft)")).to_have_count(1)
    expect(
        avery_app.locator("#scenario-list tr[data-scenario-id]").filter(has_text="Fast growth")
    ).to_be_visible()

    avery_app.get_by_label("New scenario").fill("Browser plan")
    avery_app.wait_for_timeout(400)  # the text input sends its change after a short delay
    avery_app.get_by_role("button", name="Create").click()
    row = alice_list.locator("tr.scenario-row").filter(has_text="Browser plan")
    expect(row).to_be_visible(timeout=5_000)  # live, without a reload
    expect(row.get_by_test_id("scenario-status")).to_have_text("Draft")

    avery_app.get_by_role("button", name="Save and run").click()
    expect(row.get_by_test_id("scenario-status")).to_have_text("Completed", timeout=20_000)
    avery_app.get_by_role("button", name="Show results").click()
    expect(avery_app.locator("#status")).to_have_text("Browser plan: completed")
    expect(avery_app.locator("#forecast tbody tr")).to_have_count(12)

    row.get_by_role("link", name="Browser plan").click()
    expect(alice_list.get_by_role("heading", name="Results")).to_be_visible()
    expect(alice_list.locator(".scenario-results")).to_contain_text('"total": ')


def test_a_filtered_list_shows_a_scenario_that_comes_to_match_it(people) -> None:
    """The update of a row the filtered page had left out was dropped: a "Completed" list never
    showed a scenario that completed while it was open."""
    avery_app = open_app_page(people("avery"), PLANNER)
    avery_app.get_by_label("New scenario").fill("Filtered plan")
    avery_app.wait_for_timeout(400)
    avery_app.get_by_role("button", name="Create").click()
    expect(avery_app.locator("#scenario-list tr").filter(has_text="Filtered plan")).to_be_visible()
    completed = open_live_page(people("alice"), "/t/acme/scenarios/?status=completed")  # a draft: left out
    row = completed.locator("tr.scenario-row").filter(has_text="Filtered plan")
    expect(row).to_have_count(0)
    avery_app.get_by_role("button", name="Save and run").click()
    expect(row).to_be_visible(timeout=20_000)
    expect(row.get_by_test_id("scenario-status")).to_have_text("Completed")
    expect(completed.locator("#scenarios-empty")).to_have_count(0)


def test_a_scenarios_page_catches_up_after_its_live_socket_comes_back(people) -> None:
    """Its catch-up was the list's rows, which it has not: it kept the old job, parameters and results."""
    alice = people("alice")
    cut: dict[str, Any] = {"on": False, "sockets": []}

    def relay(socket: WebSocketRoute) -> None:
        if cut["on"]:
            socket.close(code=4012)  # "restarting": the page retries, with jitter
            return
        socket.connect_to_server()
        cut["sockets"].append(socket)

    alice.route_web_socket("**/ws/live/**", relay)
    avery_app = open_app_page(people("avery"), PLANNER)
    avery_app.get_by_label("New scenario").fill("Catch-up plan")
    avery_app.wait_for_timeout(400)
    avery_app.get_by_role("button", name="Create").click()
    listing = open_live_page(alice, "/t/acme/scenarios/")
    listing.locator("tr.scenario-row").filter(has_text="Catch-up plan").get_by_role("link").click()
    listing.wait_for_function("() => document.documentElement.dataset.live === 'open'")
    status = listing.locator("tr.scenario-row").get_by_test_id("scenario-status")
    expect(status).to_have_text("Draft")

    cut["on"] = True
    for socket in cut["sockets"]:
        socket.close(code=4012)
    listing.wait_for_function("() => document.documentElement.dataset.live === 'closed'")
    avery_app.get_by_role("button", name="Save and run").click()
    expect(avery_app.locator("#scenario-list tr").filter(has_text="Catch-up plan")).to_contain_text(
        "completed", timeout=20_000
    )
    expect(status).to_have_text("Draft")  # missed while its socket was down
    cut["on"] = False
    expect(status).to_have_text("Completed", timeout=30_000)
    expect(listing.locator(".scenario-results")).to_contain_text('"total": ')
