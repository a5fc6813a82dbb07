"""Which events of its tenant a tab follows, and what it does with them.

A tab follows events when its app registered ``broadcast_on_event`` callbacks or its page shows
platform data that events change (the scenario components). The consumer asks here, so the rules
stay testable without a socket.

When one event reaches a thousand tabs of an app, they need the same scenario rows: the first
tab reads them and the others share that read (``shared_scenario_rows``).
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from dashboards.events.event import Event
from dashboards.runtime.broadcast_callbacks import wanted_subscriptions
from dashboards.runtime.components import page_uses_scenarios
from dashboards.runtime.db import db_call
from dashboards.runtime.session import AppSession

SCENARIO_ENTITY_TYPES = frozenset({"scenario", "submission", "data_node"})
SHARED_READ_SECONDS = 1.0
_shared_reads: dict[tuple[int, int, Any], tuple[float, asyncio.Future[list[dict[str, Any]]]]] = {}


def session_follows_events(session: AppSession) -> bool:
    return bool(session.app.event_subscriptions(broadcast=True)) or page_uses_scenarios(session.page)


def session_wants_event(session: AppSession, event: Event) -> bool:
    """Cheap and on the loop: field comparisons only, never app code."""
    return _changes_scenarios(session, event) or bool(
        wanted_subscriptions(session.app.event_subscriptions(broadcast=True), event)
    )


async def session_on_event(session: AppSession, event: Event) -> str:
    frame = ""
    if _changes_scenarios(session, event):
        rows = await shared_scenario_rows(session.key.tenant_id, session.key.app_id, event.id or id(event))
        frame += await session.refresh_scenarios(rows)
    return frame + await session.handle_event(event)


async def session_resync(session: AppSession) -> str:
    """After a gap in delivery: callbacks are for events and cannot be re-run; data is re-read."""
    return await session.refresh_scenarios()


def _changes_scenarios(session: AppSession, event: Event) -> bool:
    return (
        event.entity_type in SCENARIO_ENTITY_TYPES
        and event.app_id == session.key.app_id
        and page_uses_scenarios(session.page)
    )


async def shared_scenario_rows(tenant_id: int, app_id: int, event_key: Any) -> list[dict[str, Any]]:
    from dashboards.scenarios.selectors import scenario_summaries  # noqa: PLC0415 - models after apps

    now = time.monotonic()
    for key in [k for k, (at, _) in _shared_reads.items() if now - at > SHARED_READ_SECONDS]:
        del _shared_reads[key]
    key = (tenant_id, app_id, event_key)
    if key not in _shared_reads:
        loop = asyncio.get_running_loop()
        task = loop.create_task(db_call(scenario_summaries)(tenant_id=tenant_id, app_id=app_id))
        _shared_reads[key] = (now, task)
    return copy.deepcopy(await asyncio.shield(_shared_reads[key][1]))  # each tab may change its own
