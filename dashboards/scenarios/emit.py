"""The events of scenarios, in one place: what each change of a scenario tells the platform.

Every write of ``services`` and ``submissions`` calls ``scenario_event`` inside its transaction;
``event_emit`` logs it there and delivers it after commit (a rolled-back write emits nothing).
Entity ids: a scenario's id; a data node's ``"<scenario id>:<key>"``; a submission's job id.
"""

from __future__ import annotations

from typing import Any

from dashboards.events.services import event_emit
from dashboards.runtime.codecs import json_size
from dashboards.scenarios.limits import EVENT_VALUE_MAX_BYTES


def bounded_event_value(value: Any) -> tuple[Any, dict[str, Any]]:
    """The value itself when it is small; else None and a note (the database holds the data)."""
    size = json_size(value, default=str)
    if size is None:
        return None, {"value_omitted": "not JSON"}
    if size > EVENT_VALUE_MAX_BYTES:
        return None, {"value_omitted": f"{size} bytes of JSON; read the scenario for it"}
    return value, {}


def scenario_event(
    scenario: Any,
    entity_type: str,
    operation: str,
    *,
    entity_id: Any = None,
    attribute_name: str = "",
    value: Any = None,
    user_id: int | None = None,
    job_id: int | None = None,
) -> None:
    """One event about ``scenario`` (or one of its data nodes or submissions), after commit."""
    value, metadata = bounded_event_value(value)
    metadata.update(scenario_id=scenario.pk, app_id=scenario.app_id)
    if job_id is not None:
        metadata["job_id"] = job_id
    event_emit(
        tenant_id=scenario.tenant_id, app_id=scenario.app_id, user_id=user_id, entity_type=entity_type,
        entity_id=scenario.pk if entity_id is None else entity_id, operation=operation,
        attribute_name=attribute_name, attribute_value=value, metadata=metadata,
    )  # fmt: skip
