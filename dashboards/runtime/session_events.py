"""Which events of its tenant a tab follows, and what it does with them.

A tab follows events when its app registered ``broadcast_on_event`` callbacks or its page shows
platform data that events change (the scenario components). The consumer asks here, so the rules
stay testable without a socket.
"""

from __future__ import annotations

from dashboards.events.event import Event
from dashboards.runtime.broadcast_callbacks import wanted_subscriptions
from dashboards.runtime.session import AppSession


def session_follows_events(session: AppSession) -> bool:
    return bool(session.app.event_subscriptions(broadcast=True))


def session_wants_event(session: AppSession, event: Event) -> bool:
    """Cheap and on the loop: field comparisons only, never app code."""
    return bool(wanted_subscriptions(session.app.event_subscriptions(broadcast=True), event))


async def session_on_event(session: AppSession, event: Event) -> str:
    return await session.handle_event(event)


async def session_resync(session: AppSession) -> str:
    """After a gap in delivery: nothing to re-run (callbacks are for events), data is re-read."""
    return ""
