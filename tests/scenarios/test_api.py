"""The SDK's scenario functions from app code: in the test client, and in a real tab's session."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from dashboards.scenarios.models import Scenario, ScenarioStatus
from dashboards.scenarios.services import scenario_create
from dashboards.testing import AppTestClient
from tests.runtime.conftest import click, open_socket
from tests.scenarios.conftest import SCENARIO_LAB_SOURCE


# --- the app authors' test client: scenarios in memory ---
def test_the_test_client_keeps_scenarios_and_runs_submissions_in_place() -> None:
    with AppTestClient(SCENARIO_LAB_SOURCE) as app:
        assert "No scenarios yet." in app.rendered("list")
        app.click("create", payload={"name": "Plan", "parameters": {"x": 21}, "tags": ["q3"]})
        assert app.state.last["status"] == "draft" and app.state.last["owner"] == "tester"
        assert "scenarios" in app.last_mutated and ">Plan<" in app.rendered("list")
        app.change("write", {"x": 4})
        app.click("submit")
        scenario = app.scenarios.get(int(app.state.scenario))
        assert (scenario.status, scenario.results) == ("completed", {"doubled": 8})
        assert app.jobs[-1]["progress"] == [(0.5, "halfway")]
        assert "completed" in app.rendered("picker")
        app.click("submit", payload="explode")
        assert app.scenarios.get(scenario.id).error == "ValueError: no forecast today"
        assert ("data_node", "update", "x") in app.scenarios.events


def test_the_test_client_refuses_what_the_platform_refuses() -> None:
    with AppTestClient(SCENARIO_LAB_SOURCE) as app:
        app.click("read", payload=12345)
        assert app.state.error.startswith("ScenarioNotFound")
        app.click("from_async")
        assert "plain `def` handler" in app.state.error
        with pytest.raises(RuntimeError):
            app.click("create_then_fail")
        assert [s.name for s in app.scenarios.list(None, None)] == ["kept"]  # writes happen at once


def test_a_submission_names_its_job_for_people() -> None:
    with AppTestClient(SCENARIO_LAB_SOURCE) as app:
        app.click("create", payload={"name": "Plan", "parameters": {"x": 1}})
        app.click("submit")
        app.click("submit_titled", payload="Doubling the plan")
        assert [job["title"] for job in app.jobs] == ["Double", "Doubling the plan"]
        app.click("submit_titled", payload="x" * 500)
        assert "title must be at most 120 characters" in app.state.error


async def test_a_submissions_title_is_kept_on_its_job(live_scenario_lab, live_world) -> None:
    tab = await open_socket(live_world.avery, app="scenario-lab")
    await click(tab, "create", payload={"name": "Titled", "parameters": {"x": 2}})
    await click(tab, "submit_titled", payload="Doubling the plan")
    for _ in range(100):  # the tab's frames include the list's live updates: wait for the row
        scenario = await sync_to_async(Scenario.objects.select_related("job").filter(name="Titled").first)()
        if scenario is not None and scenario.job is not None:
            break
        await asyncio.sleep(0.03)
    assert scenario is not None and scenario.job is not None
    assert scenario.job.title == "Doubling the plan"
    await tab.socket.disconnect()


# --- a real tab: the database, the tenant and app of the session ---
async def test_a_handler_creates_writes_and_submits_in_its_own_app_and_tenant(
    live_scenario_lab, live_world
) -> None:
    tab = await open_socket(live_world.avery, app="scenario-lab")
    await click(tab, "create", payload={"name": "From a tab", "parameters": {"x": 2}})
    scenario = await sync_to_async(Scenario.objects.get)(name="From a tab")
    assert (scenario.tenant_id, scenario.app_id, scenario.owner_id) == (
        live_world.acme.pk,
        live_scenario_lab.pk,
        live_world.avery.pk,
    )
    await click(tab, "write", event="ui:change", payload={"x": 3, "y": [1, 2]})
    await click(tab, "submit")
    # The tab also gets the scenario list's live updates (events): wait for the state, not a frame.
    for _ in range(100):
        await sync_to_async(scenario.refresh_from_db)()
        if scenario.status == ScenarioStatus.SUBMITTED:
            break
        await asyncio.sleep(0.03)
    assert scenario.parameters == {"x": 3, "y": [1, 2]}
    assert scenario.status == ScenarioStatus.SUBMITTED and scenario.job_id is not None
    await click(tab, "submit")  # again, while it waits for a worker
    frame = await click(tab, "read", payload=scenario.pk)
    assert "already" not in frame
    await tab.socket.disconnect()


async def test_another_tenants_or_apps_scenario_reads_as_not_found(live_scenario_lab, live_world) -> None:
    def theirs() -> int:
        from dashboards.hosting.models import App

        counter = App.objects.get(tenant=live_world.globex, slug="counter")
        return scenario_create(tenant_id=counter.tenant_id, app_id=counter.pk, name="Secret").pk

    other_id = await sync_to_async(theirs)()
    tab = await open_socket(live_world.avery, app="scenario-lab")
    frame = await click(tab, "read", payload=other_id)
    assert "ScenarioNotFound" in frame and "Secret" not in frame
    await tab.socket.disconnect()


async def test_an_async_handler_gets_a_clear_error_not_a_crash(live_scenario_lab, live_world) -> None:
    tab = await open_socket(live_world.avery, app="scenario-lab")
    frame = await click(tab, "from_async")
    assert "plain `def` handler" in frame
    await tab.socket.disconnect()


async def test_a_handler_that_raises_after_a_write_keeps_the_write(live_scenario_lab, live_world) -> None:
    tab = await open_socket(live_world.avery, app="scenario-lab")
    frame = await click(tab, "create_then_fail")
    assert "after the write" in frame
    assert await sync_to_async(Scenario.objects.filter(app=live_scenario_lab, name="kept").exists)()
    await tab.socket.disconnect()


def test_json_of_a_snapshot_is_state_friendly() -> None:
    with AppTestClient(SCENARIO_LAB_SOURCE) as app:
        app.click("create", payload={"name": "Plan"})
        assert json.loads(json.dumps(app.state.last))["created_at"]


BAD_INPUT_SOURCE = """
from dashboards.sdk import create_scenario, get_scenario, list_scenarios, write_parameters

page = "{% text x %}"


def flip(state):
    scenario = create_scenario("flags", {"on": 1, "ratio": 1, "list": [1]})
    state.x = write_parameters(scenario, on=True, ratio=1.0, list=[True]).parameters


def by_float_id(state):
    scenario = create_scenario("one")
    state.x = get_scenario(float(scenario.id) + 0.9).name


def by_digits(state):
    scenario = create_scenario("two")
    state.x = get_scenario(str(scenario.id)).name


def by_number_tag(state):
    state.x = list_scenarios(tag=5)
"""


def test_values_equal_in_python_but_not_in_json_are_written() -> None:
    """True == 1 == 1.0 in Python: a write of True over 1 was dropped, with no event."""
    with AppTestClient(BAD_INPUT_SOURCE) as app:
        app.click("flip")
        assert json.dumps(app.state.x, sort_keys=True) == '{"list": [true], "on": true, "ratio": 1.0}'


def test_the_database_store_writes_them_too(world) -> None:
    from dashboards.hosting.models import App
    from dashboards.scenarios.services import scenario_write_parameters

    app = App.objects.get(tenant=world.acme, slug="planner")
    scenario = scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Flags", parameters={"on": 1})
    scenario_write_parameters(scenario=scenario, values={"on": True})
    scenario.refresh_from_db()
    assert scenario.parameters == {"on": True} and scenario.parameters["on"] is True


def test_ids_are_whole_numbers_or_their_digits_and_a_tag_filter_is_text() -> None:
    with AppTestClient(BAD_INPUT_SOURCE) as app:
        with pytest.raises(Exception, match="there is no scenario"):
            app.click("by_float_id")
        app.click("by_digits")
        assert app.state.x == "two"
        with pytest.raises(Exception, match="tag is a string"):
            app.click("by_number_tag")


def test_the_planner_runs_with_what_its_tab_changed_and_keeps_a_colleagues_values() -> None:
    """Two tabs on one scenario: "Save and run" wrote every value its tab held, stale ones too,
    over a colleague's newer ones; and a deleted scenario's run was a raw ScenarioNotFound."""
    from dashboards.ops.demo import DEMO_APPS_DIR

    planner = DEMO_APPS_DIR / "planner.py"
    with AppTestClient.from_file(planner) as alice, AppTestClient.from_file(planner, username="adam") as adam:
        adam.scenarios = alice.scenarios  # one tenant's scenarios, two tabs
        alice.change("set_name", "Fast")
        alice.click("create")
        adam.change("choose", "1")  # adam's tab holds growth 5
        alice.change("set_growth", 30)
        alice.click("run")
        adam.change("set_months", 3)
        adam.click("run")
        assert alice.scenarios.get(1).parameters == {"growth": 30, "months": 3}
        assert adam.state.growth == 30  # shown as it ran
        alice.scenarios.delete(1)
        adam.click("run")
        assert adam.toasts[-1]["message"] == "That scenario was deleted: choose another one."
        assert adam.state.scenario == ""
        alice.change("set_name", "x" * 300)
        alice.click("create")
        assert "200" in alice.toasts[-1]["message"] and alice.toasts[-1]["level"] == "warning"
