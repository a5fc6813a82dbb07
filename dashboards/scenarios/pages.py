"""What the Scenarios pages show, for views and for the live ``scenarios`` topic alike."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from dashboards.hosting.selectors import can_open_app
from dashboards.scenarios.models import Scenario
from dashboards.scenarios.selectors import scenario_get, scenario_list_for_member
from dashboards.tenancy.selectors import membership_role

SCENARIOS_TOPIC = "scenarios"
TOPIC_ENTITY_TYPES = ("scenario", "submission", "data_node")


def may_see_scenario(*, scenario: Scenario, user: Any, role: str | None) -> bool:
    """Members see the scenarios of the apps they may open."""
    return can_open_app(app=scenario.app, user=user, role=role)


def scenario_id_of(data: dict[str, Any]) -> int | None:
    """The scenario an event is about: its id, a data node's "<id>:<key>", or the metadata."""
    metadata = data.get("metadata") or {}
    candidate: Any = metadata.get("scenario_id")
    if candidate is None and data.get("entity_type") in ("scenario", "data_node"):
        candidate = str(data.get("entity_id") or "").partition(":")[0]
    try:
        return int(candidate)
    except (TypeError, ValueError):
        return None


def render_scenarios_topic(*, user: Any, tenant: Any, data: dict[str, Any]) -> str:
    """The live ``scenarios`` topic: one scenario's row, swapped into the pages showing it.

    ``data`` is the event (``Event.as_message()``); the row is re-read from the database, the
    truth. ``{}`` (a reconnect, a gap, a change of access) re-renders the whole list, with a mark
    that has a scenario's page read its own scenario again. A deleted scenario's row is
    removed, and its own page told so at the top (it cannot read a body that is gone). Its heading
    goes with its row, so a rename reaches its page. The detail page reloads its own body when its
    row changes (static/js/scenarios.js); fragments a page does not show are left out there.
    """
    role = membership_role(user=user, tenant=tenant)
    if role is None:
        return ""
    if not data:  # a gap, or a change of what the user may see: the list again, and a scenario's
        # page reads its own scenario again (scenarios.js), which may no longer be open to them
        rows = scenario_list_for_member(tenant=tenant, user=user, role=role)
        return render_to_string("scenarios/_scenario_rows.html", {"scenarios": rows, "oob": True})
    scenario_id = scenario_id_of(data)
    scenario = None if scenario_id is None else scenario_get(tenant=tenant, scenario_id=scenario_id)
    if scenario is None:
        deleted = data.get("entity_type") == "scenario" and data.get("operation") == "deletion"
        if not (deleted and scenario_id):
            return ""
        # Sent to every member's pages, as the row's removal was: it names no more than the id.
        context = {"scenario_id": scenario_id, "tenant": tenant}
        return render_to_string("scenarios/_scenario_deleted.html", context)
    if not may_see_scenario(scenario=scenario, user=user, role=role):
        return ""
    created = data.get("entity_type") == "scenario" and data.get("operation") == "creation"
    context = {"scenario": scenario, "oob": "new" if created else True}
    row = render_to_string("scenarios/_scenario_row.html", context)
    return row + render_to_string("scenarios/_scenario_heading.html", {"scenario": scenario, "oob": True})
