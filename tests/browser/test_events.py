"""Events as people see them: platform pages that follow them move without a reload."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import open_app_page, open_live_page
from tests.support import REPO_ROOT

PLANNER = "/t/acme/apps/planner/"


def test_a_deploy_shows_on_the_tenant_home_of_everyone_there(people, platform) -> None:
    greta_home = open_live_page(people("greta"), "/t/globex/")
    card = greta_home.get_by_test_id("app-cards").locator("li").filter(has_text="Counter")
    version = card.locator(".muted").text_content()
    counter = REPO_ROOT / "dashboards" / "ops" / "demo_apps" / "counter.py"
    platform.manage("deploy_app", str(counter), "--tenant", "globex", "--app", "counter")
    expect(card.locator(".muted")).not_to_have_text(version or "", timeout=5_000)
    expect(card.locator(".muted")).to_have_text(f"Version {int(version.split()[-1]) + 1}")


def test_a_colleagues_new_scenario_appears_in_my_open_app_without_a_reload(people) -> None:
    """The reference case, in the app: avery creates, alice's scenario list shows it."""
    alice_app = open_app_page(people("alice"), PLANNER)
    avery_app = open_app_page(people("avery"), PLANNER)
    avery_app.get_by_label("New scenario").fill("Shared plan")
    avery_app.wait_for_timeout(400)  # the text input sends its change after a short delay
    avery_app.get_by_role("button", name="Create").click()
    row = alice_app.locator("#scenario-list tr[data-scenario-id]").filter(has_text="Shared plan")
    expect(row).to_be_visible(timeout=5_000)
    expect(alice_app.locator("#selector select option").filter(has_text="Shared plan")).to_have_count(1)


def test_the_event_log_lists_what_changed_for_developers(people) -> None:
    adam_log = people("adam").new_page()
    adam_log.goto("/t/acme/events/?entity_type=scenario")
    expect(adam_log.get_by_test_id("event-log")).to_be_visible()
    expect(adam_log.locator("tr.event-row").first).to_contain_text("scenario")
    avery = people("avery").new_page()
    response = avery.goto("/t/acme/events/")
    assert response is not None and response.status == 404  # viewers do not read the log
