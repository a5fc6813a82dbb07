"""A test app at the edges of what a page is sent: large answers, a chart Plotly cannot draw, long
toasts; an async handler that blocks without awaiting; a job whose status function shows no toast;
charts of two series, of bars and of a pie whose points the keyboard picks and selects."""

import time

from dashboards.sdk import download, invoke_long_callback, notify, update_chart_layout

initial_state = {
    "broken": {"data": [None]},  # Plotly throws on it
    "fine": {"data": [{"type": "bar", "x": ["a", "b"], "y": [1, 2]}], "layout": {"title": {"text": "Fine"}}},
    "rows": [],
    "exported": "",
    "stalled": "",
    "tallied": "",
    "series": {
        "data": [
            {"type": "scatter", "name": "Costs", "x": ["Q1", "Q2", "Q3"], "y": [3, 4, 2]},
            {"type": "scatter", "name": "Sales", "x": ["Q1", "Q2", "Q3"], "y": [5, 7, 1500.5]},
        ],
        "layout": {},
    },
    "bars": {"data": [{"type": "bar", "x": ["Jan", "Feb", "Mar", "Apr"], "y": [4, 1, 3, 2]}], "layout": {}},
    "pie": {"data": [{"type": "pie", "labels": ["Ale", "Stout"], "values": [2, 3]}], "layout": {}},
    "picked": "",
}

page = """
{% chart broken id="broken" %}
{% chart fine id="fine" %}
<div class="row">
  {% button "Many rows" on_click="many_rows" id="many" %}
  {% button "Big download" on_click="big_download" id="big" %}
  {% button "Long toast" on_click="long_toast" id="long" %}
  {% button "Double" on_click="double" id="double" %}
  {% button "Stall" on_click="stall" id="stall" %}
  {% button "Tally quietly" on_click="start_tally" id="tally" %}
  <button type="button" data-emit="edges:export" data-emit-payload='{"format": "csv"}'>Export</button>
</div>
{% text exported id="exported" %}
{% text stalled id="stalled" %}
{% text tallied id="tallied" %}
{% table rows id="rows" %}
{% chart series on_click="pick_point" on_selected="pick_points" id="series" alt="Costs and sales" %}
{% chart bars on_selected="pick_points" id="bars" alt="Units by month" %}
{% chart pie on_click="pick_point" id="pie" alt="Beers sold" %}
{% text picked id="picked" %}
"""


def many_rows(state):
    state.rows = [{"n": n, "text": "row " + "x" * 80} for n in range(900)]  # a frame of about 100 KB


def big_download(state):
    download(state, b"z" * (2 * 1024 * 1024), "big.bin")


def long_toast(state):
    notify(state, "error", "Cannot read /srv/" + "very-long-folder-name/" * 15 + "file.csv", duration=0)


def double(state):
    """A new figure and a layout update in one answer: the update is for the chart just drawn."""
    state.fine = {
        "data": [{"type": "bar", "x": ["a", "b"], "y": [2, 4]}],
        "layout": {"title": {"text": "Fine"}},
    }
    update_chart_layout(state, "fine", {"title": {"text": "Doubled"}})


async def stall(state):
    """The mistake an async handler makes most: a blocking call. It holds this app's loop only."""
    time.sleep(4)
    state.stalled = "stalled for 4 s"


def export(state, payload):
    """Sent by the page's own markup (data-emit), not by a component."""
    state.exported = f"exported as {payload['format']}"


def tally(n):
    """Runs on a job worker."""
    return n * 2


def tally_status(state, status, result):
    """Tells the job's end in the page alone, with no toast of its own."""
    if isinstance(status, bool):
        state.tallied = f"tallied: {result}" if status else "the tally failed"


def start_tally(state):
    invoke_long_callback(state, tally, [21], tally_status)


def pick_point(state, payload, context):
    point = payload["points"][0]
    where = f"{point['curveNumber']} {point['pointNumber']}"
    state.picked = f"{context['target']}: {where} {point.get('label')} {point.get('y')}"


def pick_points(state, payload, context):
    points = payload["points"]
    where = f"{points[0]['curveNumber']} {[point['pointNumber'] for point in points]}"
    state.picked = f"{context['target']}: selected {where} {[point.get('label') for point in points]}"


callbacks = {"edges:export": export}
