"""Quarterly report: built on a job worker, with live progress; the Analysts team hears when it ends."""

import time

from dashboards.sdk import invoke_long_callback, notify, progress

initial_state = {
    "steps": 10,
    "status": "Not built yet.",
    "fraction": 0.0,
    "message": "",
    "rows": 0,
    "runs": 0,
}

page = """
<section class="card">
  <h2>Quarterly report</h2>
  <p class="muted">Each step takes 200 ms on a job worker; you can leave the page, the Analysts team is told
  when it ends, and the result is here when you come back.</p>
  {% number steps label="Steps" on_change="set_steps" id="steps" %}
  <div class="row">{% button "Build the report" on_click="build" id="build" %}</div>
  {% progress fraction label="Progress" id="bar" %}
  <p>{% text message id="message" %}</p>
  <p role="status">{% text status id="status" %}</p>
  {% metric rows label="Rows in the report" id="rows" %}
</section>
"""


def build_report(steps):
    """Runs on a job worker: no state here, only its arguments; its result goes back to the tab."""
    for step in range(steps):
        time.sleep(0.2)
        progress((step + 1) / steps, f"Step {step + 1} of {steps}")
    return steps * 1000


def report_status(state, status, result, error=None):
    """``error`` (beyond Taipy): why the job did not finish, None when it did."""
    if isinstance(status, bool):
        state.fraction = 1.0 if status else state.fraction
        state.status = "Report built." if status else f"The report did not finish: {error}."
        state.message = ""  # the last step shown while it ran is history now
        state.rows = result or 0
        notify(state, "success" if status else "error", state.status)
    else:  # running: a retry from the Jobs page too, after an end this tab showed
        state.fraction = status.fraction or 0.0
        state.message = status.message
        state.status = "Building…"


def set_steps(state, payload):
    state.steps = max(1, min(int(payload or 10), 100))


def build(state):
    state.runs += 1
    state.fraction = 0.0
    state.message = ""
    state.status = "Building…"
    invoke_long_callback(state, build_report, [int(state.steps or 10)], report_status)
