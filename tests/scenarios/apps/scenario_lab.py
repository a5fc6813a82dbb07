"""An app of the scenario tests: every SDK scenario function, a task that works and one that fails."""

import asyncio

from dashboards.sdk import (
    ScenarioError,
    create_scenario,
    delete_scenario,
    get_scenario,
    list_scenarios,
    progress,
    submit_scenario,
    update_scenario,
    write_parameters,
)

initial_state = {"scenario": "", "last": None, "error": "", "names": []}
page = """
{% scenario_selector scenario on_change="choose" id="picker" %}
{% scenario_list on_click="open_it" selected=scenario id="list" %}
{% text error id="error" %}
{% text last id="last" %}
"""


def double(parameters):
    progress(0.5, "halfway")
    return {"doubled": parameters.get("x", 0) * 2}


def explode(parameters):
    raise ValueError("no forecast today")


def create(state, payload):
    scenario = create_scenario(
        payload.get("name", "S"), payload.get("parameters"), tags=payload.get("tags", ())
    )
    state.scenario = str(scenario.id)
    state.last = scenario.as_dict()


def create_then_fail(state):
    create_scenario("kept")
    raise RuntimeError("after the write")


def write(state, payload):
    state.last = write_parameters(state.scenario, payload).as_dict()


def rename(state, payload):
    state.last = update_scenario(state.scenario, name=payload, tags=["renamed"]).as_dict()


def submit(state, payload):
    task = explode if payload == "explode" else double
    try:
        state.last = submit_scenario(state.scenario, task).as_dict()
    except ScenarioError as error:
        state.error = str(error)


def submit_titled(state, payload):
    try:
        state.last = submit_scenario(state.scenario, double, title=payload).as_dict()
    except ScenarioError as error:
        state.error = str(error)


def read(state, payload):
    try:
        state.last = get_scenario(payload or state.scenario).as_dict()
    except ScenarioError as error:
        state.error = f"{type(error).__name__}: {error}"


def names(state):
    state.names = [s.name for s in list_scenarios()]


def remove(state):
    delete_scenario(state.scenario)


def choose(state, payload):
    state.scenario = payload


def open_it(state, context):
    state.scenario = context["repeat_key"]


async def from_async(state):
    await asyncio.sleep(0)
    try:
        list_scenarios()
    except ScenarioError as error:
        state.error = str(error)
