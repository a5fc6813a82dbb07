"""Scenarios as people see them: the app's components, and the tenant's Scenarios page moving live."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import BrowserContext, Page, Route, WebSocketRoute, expect

from tests.browser.conftest import open_app_page, open_live_page
from tests.support import RunningPlatform

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
    # Hidden, not absent: the live topic may deliver its row (the creation's event, or the catch-up
    # when the socket opens), and the page hides the rows its filters leave out.
    expect(row).to_be_hidden()
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

    def pages_while_cut(route: Route) -> None:
        # While "down", the scenario's own readings fail too: the second half of a re-reading
        # begun before the cut (its body, then its row) would show what the socket missed.
        route.abort() if cut["on"] else route.continue_()

    alice.route_web_socket("**/ws/live/**", relay)
    alice.route("**/t/acme/scenarios/**", pages_while_cut)
    reading = requests_under_way(alice)  # its socket's opening re-reads the scenario
    avery_app = open_app_page(people("avery"), PLANNER)
    avery_app.get_by_label("New scenario").fill("Catch-up plan")
    avery_app.wait_for_timeout(400)
    avery_app.get_by_role("button", name="Create").click()
    listing = open_live_page(alice, "/t/acme/scenarios/")
    listing.locator("tr.scenario-row").filter(has_text="Catch-up plan").get_by_role("link").click()
    listing.wait_for_function("() => document.documentElement.dataset.live === 'open'")
    status = listing.locator("tr.scenario-row").get_by_test_id("scenario-status")
    expect(status).to_have_text("Draft")

    until_quiet(listing, reading)  # a reading answered after the run started would show it
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


def requests_under_way(context: BrowserContext) -> set[Any]:
    """The context's requests begun and not yet answered (nor failed), kept up to date."""
    under_way: set[Any] = set()

    def begun(request: Any) -> None:
        under_way.add(request)

    def ended(request: Any) -> None:
        under_way.discard(request)

    context.on("request", begun)
    context.on("requestfinished", ended)
    context.on("requestfailed", ended)
    return under_way


def until_quiet(page: Page, under_way: set[Any], quiet_ms: int = 300) -> None:
    """Until no request has been under way for ``quiet_ms`` (one reading may follow another)."""
    quiet = 0
    while quiet < quiet_ms:
        page.wait_for_timeout(50)  # the requests' events are taken meanwhile
        quiet = quiet + 50 if not under_way else 0


def in_platform(platform: RunningPlatform, code: str) -> None:
    """A change made elsewhere (an app, a script): the platform's services, in a process of its own."""
    platform.manage("shell", "-v0", "-c", "from dashboards.hosting.models import App\n"
                    "from dashboards.scenarios import services\n"
                    "app = App.objects.get(tenant__slug='acme', slug='planner')\n" + code)  # fmt: skip


def open_scenario_page(context: BrowserContext, name: str) -> Page:
    page = open_live_page(context, "/t/acme/scenarios/")
    page.locator("tr.scenario-row").filter(has_text=name).get_by_role("link", name=name).click()
    page.wait_for_url(re.compile(r"/scenarios/\d+/$"))
    page.wait_for_function("() => document.documentElement.dataset.live === 'open'")
    return page


def console_errors_of(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda line: line.type == "error" and errors.append(line.text))
    return errors


def test_a_scenarios_page_says_it_was_deleted_in_the_admin_and_the_admin_goes_back_to_its_list(
    people, platform
) -> None:
    """The page kept showing the scenario and logged a 404 (it read its body again); the admin's
    delete landed on /admin/, not on the scenarios' list."""
    in_platform(
        platform, "services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name='Doomed plan')"
    )
    alice = people("alice")
    shown = open_scenario_page(alice, "Doomed plan")
    errors = console_errors_of(shown)
    expect(shown.get_by_role("heading", name="Scenario: Doomed plan")).to_be_visible()
    scenario_id = shown.locator("table[data-scenario-detail]").get_attribute("data-scenario-detail")

    admin = alice.new_page()  # another tab
    admin.goto(f"/admin/scenarios/scenario/{scenario_id}/delete/")
    admin.get_by_role("button", name=re.compile("Yes")).click()
    expect(admin).to_have_url(re.compile(r"/admin/scenarios/scenario/$"))
    expect(admin.locator(".messagelist")).to_contain_text("was deleted successfully")

    notice = shown.get_by_role("alert")
    expect(notice).to_contain_text("This scenario was deleted", timeout=5_000)
    expect(notice.get_by_role("link", name="Back to the scenarios")).to_have_attribute(
        "href", "/t/acme/scenarios/"
    )
    expect(shown.locator("#scenario-body")).to_be_hidden()
    expect(shown.locator("table[data-scenario-detail]")).to_be_hidden()
    expect(shown).to_have_title(re.compile(r"^Deleted: Doomed plan · Scenarios"))
    shown.wait_for_timeout(500)  # a re-fetch of the gone body would have failed by now
    assert errors == []
    notice.get_by_role("link", name="Back to the scenarios").click()
    expect(shown.get_by_role("heading", name="Scenarios", exact=True)).to_be_visible()


def test_a_scenarios_page_shows_its_new_name_when_renamed_elsewhere(people, platform) -> None:
    """Its row showed the new name; the heading and the tab's title kept the old one."""
    in_platform(
        platform, "services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name='First name')"
    )
    shown = open_scenario_page(people("alice"), "First name")
    errors = console_errors_of(shown)
    expect(shown).to_have_title(re.compile(r"^First name · Scenarios"))
    in_platform(
        platform,
        "from dashboards.scenarios.models import Scenario\n"
        "row = Scenario.objects.get(name='First name')\n"
        "services.scenario_update(scenario=row, name='Second name')",
    )
    expect(shown.get_by_role("heading", name="Scenario: Second name")).to_be_visible(timeout=5_000)
    expect(shown.locator("tr.scenario-row")).to_contain_text("Second name")
    expect(shown).to_have_title(re.compile(r"^Second name · Scenarios · Acme Corp$"))
    assert errors == []


def test_a_scenarios_page_says_so_when_its_app_is_no_longer_open_to_the_user(people, platform) -> None:
    """Still a member of the tenant, no longer allowed the scenario's app: the page kept showing the
    scenario (and the list its row) until a reload."""
    in_platform(
        platform, "services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name='Team only plan')"
    )
    avery = people("avery")  # a viewer of Acme, in no team the app will name
    shown = open_scenario_page(avery, "Team only plan")
    listing = open_live_page(avery, "/t/acme/scenarios/")
    expect(listing.locator("tr.scenario-row").filter(has_text="Team only plan")).to_be_visible()
    errors = console_errors_of(shown)
    try:
        in_platform(platform, "app.access = 'teams'\napp.save()")
        notice = shown.get_by_role("alert")
        expect(notice).to_contain_text("This scenario was deleted or is no longer open to you", timeout=5_000)
        expect(shown.locator("table[data-scenario-detail]")).to_be_hidden()
        expect(shown.locator("#scenario-body")).to_be_hidden()
        expect(listing.locator("tr.scenario-row").filter(has_text="Team only plan")).to_have_count(0)
        shown.wait_for_timeout(500)
        assert errors == []
    finally:
        in_platform(platform, "app.access = 'members'\napp.save()")


def test_a_scenarios_page_says_it_is_gone_when_deleted_while_its_socket_was_down(people, platform) -> None:
    """Coming back, it read its row and body again: two 404s, and the scenario stayed on the page."""
    in_platform(
        platform, "services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name='Quietly gone')"
    )
    alice = people("alice")
    cut: dict[str, Any] = {"on": False, "sockets": []}

    def relay(socket: WebSocketRoute) -> None:
        if cut["on"]:
            socket.close(code=4012)
            return
        socket.connect_to_server()
        cut["sockets"].append(socket)

    alice.route_web_socket("**/ws/live/**", relay)
    shown = open_scenario_page(alice, "Quietly gone")
    errors = console_errors_of(shown)
    cut["on"] = True
    for socket in cut["sockets"]:
        socket.close(code=4012)
    shown.wait_for_function("() => document.documentElement.dataset.live === 'closed'")
    in_platform(  # its event is not heard: the socket is down
        platform,
        "from dashboards.scenarios.models import Scenario\n"
        "services.scenario_delete(scenario=Scenario.objects.get(name='Quietly gone'))",
    )
    cut["on"] = False
    notice = shown.get_by_role("alert")
    expect(notice).to_contain_text("This scenario was deleted or is no longer open to you", timeout=30_000)
    expect(shown.locator("table[data-scenario-detail]")).to_be_hidden()
    expect(shown.locator("#scenario-body")).to_be_hidden()
    shown.wait_for_timeout(500)
    assert errors == []
