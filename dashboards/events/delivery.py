"""Where a committed event goes: live pages and sessions over the channel layer, processors on RQ."""

from __future__ import annotations

import logging

from dashboards.events.event import Event
from dashboards.runtime.broadcast import broadcast

logger = logging.getLogger(__name__)
MESSAGE_TYPE = "events.occurred"


def events_group(tenant_id: int) -> str:
    """Every process that has a page or session of this tenant open (one membership per process)."""
    return f"dashboards.events.{int(tenant_id)}"


def deliver(event: Event) -> None:
    broadcast(events_group(event.tenant_id), {"type": MESSAGE_TYPE, "event": event.as_message()})
