"""Sales explorer: click a bar to filter the table; download what you see as CSV."""

import csv
import io

from dashboards.sdk import download, notify

SALES = [
    {"region": region, "month": month, "product": product, "units": units, "revenue": units * price}
    for region, base in (("North", 120), ("South", 90), ("East", 150), ("West", 70))
    for month_index, month in enumerate(("Jan", "Feb", "Mar", "Apr"))
    for product, price, share in (("Widget", 25, 0.6), ("Gadget", 40, 0.4))
    for units in [int(base * share * (1 + 0.1 * month_index))]
]
REGIONS = ["North", "South", "East", "West"]


def _totals():
    return [sum(row["revenue"] for row in SALES if row["region"] == region) for region in REGIONS]


def _figure():
    return {
        "data": [{"type": "bar", "x": REGIONS, "y": _totals(), "marker": {"color": "#2457d6"}}],
        "layout": {
            "title": {"text": "Revenue by region (click a bar)"},
            "margin": {"t": 48, "r": 16, "b": 40, "l": 64},
            "yaxis": {"title": {"text": "Revenue"}},
        },
    }


def _rows(region):
    return [row for row in SALES if region is None or row["region"] == region]


initial_state = {
    "region": None,
    "region_options": [["", "All regions"], *REGIONS],
    "heading": "All regions",
    "rows": _rows(None),
    "figure": _figure(),
    "total": sum(_totals()),
}

page = """
<div class="row">
  {% metric total label="Revenue shown" id="total" %}
  <p role="status">{% text heading id="heading" %}</p>
</div>
{% chart figure on_click="pick_region" id="chart" alt="Revenue by region: click a bar to pick it" %}
{% select region options=region_options label="Region" on_change="choose_region" id="region" %}
<div class="row">
  {% button "Show all regions" on_click="show_all" id="show-all" %}
  {% download_button "Download CSV" on_click="export_csv" id="export" %}
</div>
{% table rows id="sales-table" caption="Sales" %}
"""


def _select(state, region):
    state.region = region
    state.rows = _rows(region)
    state.heading = f"Region: {region}" if region else "All regions"
    state.total = sum(row["revenue"] for row in state.rows)
    # In the state, not with update_chart_layout: a reload shows the figure the state holds, and
    # a command's change to it is gone then (that command is for looks a reload may lose).
    title = f"Revenue by region: {region} selected" if region else "Revenue by region (click a bar)"
    state.figure["layout"]["title"]["text"] = title


def pick_region(state, payload):
    points = (payload or {}).get("points") or []
    region = points[0].get("x") if points else None
    if region not in REGIONS:
        notify(state, "warning", "Click on a bar to pick a region.")
        return
    _select(state, region)


def choose_region(state, payload):
    """The keyboard's way to what a bar's click does."""
    _select(state, payload if payload in REGIONS else None)


def show_all(state):
    _select(state, None)


def export_csv(state):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["region", "month", "product", "units", "revenue"])
    writer.writeheader()
    writer.writerows(state.rows)
    name = f"sales-{(state.region or 'all').lower()}.csv"
    download(state, buffer.getvalue(), name, "text/csv")
