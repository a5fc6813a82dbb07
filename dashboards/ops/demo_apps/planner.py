"""Planner: forecast scenarios. Create one, set its growth and months, run it on a job worker;
everyone with the app open sees the scenario list move, and the results come back to it."""

import time

from dashboards.sdk import (
    ScenarioBusy,
    ScenarioError,
    ScenarioNotFound,
    create_scenario,
    get_scenario,
    notify,
    progress,
    submit_scenario,
    write_parameters,
)

initial_state = {
    "scenario": "",
    "name": "",
    "growth": 5,
    "months": 12,
    "status": "",
    "forecast": [],
    "total": "",
    "edited": [],  # the parameters changed in this tab since the scenario was shown: what "run" writes
}

page = """
<section class="card">
  <h2>Planner</h2>
  <p class="muted">A scenario keeps its parameters and, once run on a job worker, its forecast.</p>
  <div class="row">{% text_input name label="New scenario" on_change="set_name" id="name" %}
  {% button "Create" on_click="create" id="create" %}</div>
  {% scenario_selector scenario label="Scenario" on_change="choose" id="selector" %}
  {% number growth label="Monthly growth (%)" min=-50 max=100 step=1 on_change="set_growth" id="growth" %}
  {% number months label="Months" min=1 max=36 step=1 on_change="set_months" id="months" %}
  <div class="row">{% button "Save and run" on_click="run" id="run" %}
  {% button "Show results" on_click="show" id="show" %}</div>
  <p role="status">{% text status id="status" %}</p>
  {% metric total label="Total revenue" id="total" %}
  {% table forecast id="forecast" caption="Forecast by month" %}
  <h3>All scenarios</h3>
  {% scenario_list on_click="open_scenario" selected=scenario id="scenario-list" %}
</section>
"""


def forecast(parameters):
    """Runs on a job worker with the scenario's parameters; what it returns becomes its results."""
    growth = float(parameters.get("growth", 0)) / 100
    months = int(parameters.get("months", 12))
    value, rows = 100.0, []
    for month in range(1, months + 1):
        time.sleep(0.05)
        value *= 1 + growth
        rows.append({"month": month, "revenue": round(value, 2)})
        progress(month / months, f"Month {month} of {months}")
    return {"rows": rows, "total": round(sum(row["revenue"] for row in rows), 2)}


def set_name(state, payload):
    state.name = str(payload or "").strip()


def set_growth(state, payload):
    state.growth = max(-50, min(int(payload or 0), 100))
    _edited(state, "growth")


def set_months(state, payload):
    state.months = max(1, min(int(payload or 12), 36))
    _edited(state, "months")


def _edited(state, key):
    if key not in state.edited:
        state.edited.append(key)


def create(state):
    try:
        scenario = create_scenario(state.name or "Untitled", {"growth": state.growth, "months": state.months})
    except ScenarioError as error:  # a name too long, say: the reason, in words
        notify(state, "warning", str(error))
        return
    state.scenario = str(scenario.id)
    state.name = ""
    _show(state, scenario)


def choose(state, payload):
    state.scenario = str(payload or "")
    if state.scenario:
        _show_or_forget(state)


def open_scenario(state, context):
    choose(state, context["repeat_key"])


def show(state):
    if state.scenario:
        _show_or_forget(state)


def run(state):
    """Writes only what this tab changed: a colleague's newer values for the rest stay (every value
    the tab held, stale ones too, overwrote theirs without a word)."""
    if not state.scenario:
        notify(state, "warning", "Create or choose a scenario first.")
        return
    try:
        if get_scenario(state.scenario).status in ("submitted", "running"):
            raise ScenarioBusy("it is running already: wait for it to end, then run it again")
        if state.edited:
            write_parameters(state.scenario, {key: state[key] for key in state.edited})
        scenario = submit_scenario(state.scenario, forecast)
    except ScenarioNotFound:
        _forget(state)
        return
    except ScenarioBusy as error:
        notify(state, "warning", f"Not run: {error}")
        return
    state.edited = []
    _show(state, scenario)
    state.status = f"{scenario.name}: {scenario.status}. Press Show results when it has completed."


def _show_or_forget(state):
    try:
        _show(state, get_scenario(state.scenario))
    except ScenarioNotFound:
        _forget(state)


def _forget(state):
    state.scenario = ""
    state.status = ""
    notify(state, "warning", "That scenario was deleted: choose another one.")


def _show(state, scenario):
    state.edited = []
    state.growth = scenario.parameters.get("growth", 5)
    state.months = scenario.parameters.get("months", 12)
    results = scenario.results or {}
    state.forecast = results.get("rows", [])
    state.total = results.get("total", "")
    state.status = f"{scenario.name}: {scenario.status}" + (f" ({scenario.error})" if scenario.error else "")
