"""One per process (per event loop): events of a tenant arrive once, then fan out in memory.

Without it, every open page would sit in its tenant's events group and one event would cost one
Redis message per page. With it, a process holds one membership per tenant it has pages of, and
hands each event to its local listeners (pages and sessions), which queue their own work.

Group memberships vanish when Redis restarts without persistence. When the hub's receive fails
(Redis gone) and later works again, it re-joins its groups, re-joins the groups sockets told it
about (``keep_joined``), and calls every listener with ``None``: "you may have missed events,
re-read the database". It also re-joins everything every GROUP_REJOIN_SECONDS, in case Redis
restarted between two receives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from channels.layers import get_channel_layer

from dashboards.events.delivery import MESSAGE_TYPE, events_group
from dashboards.events.event import Event
from dashboards.events.limits import GROUP_REJOIN_SECONDS
from dashboards.runtime.groups import channel_join, channel_leave, groups_join
from dashboards.runtime.loops import per_loop

logger = logging.getLogger(__name__)
#: listener(event) runs on the loop and must not block: it queues work. None means "re-read".
Listener = Callable[[Event | None], None]
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


class EventHub:
    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel: str | None = None
        # tenant id -> its listeners (bound methods compare equal when they are of the same object)
        self.listeners: dict[int, dict[Listener, None]] = {}
        self.memberships: dict[str, tuple[str, ...]] = {}  # socket channel -> its groups
        self.task: asyncio.Task[None] | None = None
        self.delivered = 0

    async def subscribe(self, tenant_id: int, listener: Listener) -> None:
        if self.layer is None:
            return
        if self.channel is None:
            # The default prefix: channels-redis reads one shared per-process channel for all of them.
            self.channel = await self.layer.new_channel()
        listeners = self.listeners.setdefault(int(tenant_id), {})
        if not listeners:
            await channel_join(self.layer, self.channel, [events_group(tenant_id)])
        listeners[listener] = None
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="events-hub")

    async def unsubscribe(self, tenant_id: int, listener: Listener) -> None:
        listeners = self.listeners.get(int(tenant_id))
        if not listeners or listener not in listeners:
            return
        del listeners[listener]
        if not listeners:
            del self.listeners[int(tenant_id)]
            if self.layer is not None and self.channel is not None:
                await channel_leave(self.layer, self.channel, [events_group(tenant_id)])
        if not self.listeners and self.task is not None:  # nothing open here any more: stop receiving
            self.task.cancel()
            self.task = None

    def keep_joined(self, channel: str, groups: list[str]) -> None:
        """Groups a socket sits in, re-joined with the hub's after Redis comes back."""
        self.memberships[channel] = tuple(groups)

    def forget(self, channel: str) -> None:
        self.memberships.pop(channel, None)

    def dispatch(self, event: Event | None, tenant_id: int | None = None) -> None:
        tenants = [tenant_id] if tenant_id is not None else list(self.listeners)
        for tenant in tenants:
            for listener in list(self.listeners.get(tenant, {})):
                try:
                    listener(event)
                except Exception:
                    logger.exception("events hub: a listener failed; the others go on")

    async def _run(self) -> None:
        failures = 0
        assert self.layer is not None and self.channel is not None
        ticker = asyncio.get_running_loop().create_task(self._rejoin_periodically())
        try:
            while True:
                try:
                    message = await self.layer.receive(self.channel)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    failures += 1
                    delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
                    logger.warning("events hub: receive failed (%s: %s); retrying in %.1f s",
                                   type(error).__name__, error, delay)  # fmt: skip
                    await asyncio.sleep(delay)
                    continue
                if failures:  # Redis is back, perhaps without our groups: re-join, everyone re-reads
                    failures = 0
                    await self._rejoin()
                    self.dispatch(None)
                self._on_message(message)
        finally:
            ticker.cancel()

    def _on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") != MESSAGE_TYPE:
            return
        try:
            event = Event.from_message(message["event"])
        except (KeyError, TypeError, ValueError):
            logger.warning("events hub: a malformed event was dropped")
            return
        self.delivered += 1
        self.dispatch(event, event.tenant_id)

    async def _rejoin_periodically(self) -> None:
        while True:
            await asyncio.sleep(GROUP_REJOIN_SECONDS)
            await self._rejoin()

    def memberships_held(self) -> list[tuple[str, str]]:
        """(group, channel) of the hub and of every socket it knows of, in this process."""
        memberships = []
        if self.channel is not None:
            memberships = [(events_group(tenant_id), self.channel) for tenant_id in list(self.listeners)]
        for channel, groups in list(self.memberships.items()):
            memberships.extend((group, channel) for group in groups)
        return memberships

    async def _rejoin(self) -> None:
        assert self.layer is not None and self.channel is not None
        try:
            memberships = self.memberships_held()
            # In pipelines of MEMBERSHIPS_PER_PIPELINE: a thousand sockets' groups are a few round
            # trips, and the sockets' events go through between them.
            await groups_join(self.layer, memberships)
        except Exception as error:
            logger.warning("events hub: re-joining groups failed (%s); next pass retries", error)


#: The hub of the running event loop (Daphne has one; tests have one per test).
get_hub = per_loop(EventHub)
