"""The one socket of every platform page that is not an app page: toasts, the badge, live topics."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from dashboards.events.event import Event
from dashboards.events.hub import get_hub
from dashboards.live.subscriptions import (
    Subscription,
    member_now,
    page_groups,
    subscription_for,
    topics_missed,
)
from dashboards.live.topics import render_topic, topics_following
from dashboards.runtime import shutdown
from dashboards.runtime.access import still_signed_in
from dashboards.runtime.db import db_call
from dashboards.runtime.groups import channel_join, channel_leave
from dashboards.runtime.protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_INTERNAL_ERROR,
    CLOSE_NOT_SIGNED_IN,
    CLOSE_SERVICE_RESTART,
)
from dashboards.runtime.recheck import recheck_access_periodically

logger = logging.getLogger(__name__)
RENDER_QUEUE_LIMIT = 200  # renders waiting for one page; past it, the page is re-rendered once


class LivePageConsumer(AsyncWebsocketConsumer):
    subscription: Subscription | None = None
    renders: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
    closing = False  # access lost: no more renders for this page

    async def connect(self) -> None:
        self.groups_joined: list[str] = []
        self.hub = get_hub()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()  # then closed: the browser sees our code (a refused handshake is a bare 403)
            await self.close(CLOSE_NOT_SIGNED_IN)
            return
        try:
            await self._open(user)
        except BaseException:
            # Channels never calls disconnect for a connect that raised: undo what was taken (groups,
            # the hub's listener and memberships, the renderer, shutdown's tracking), then let it close.
            try:
                await self.disconnect(CLOSE_INTERNAL_ERROR)
            except Exception:
                logger.exception("live page of user %s: a failed connect could not be undone", user.pk)
            raise

    async def _open(self, user: Any) -> None:
        session = self.scope.get("session")
        login_key = session.session_key if session else None
        # Joined before access is read: a change of access committed after the read is then heard
        # (its message waits until connect returns), and one committed before it is read. Noted
        # before joining: a failed join is left whole.
        self.groups_joined.extend(page_groups(user_id=user.pk, login_key=login_key))
        await channel_join(self.channel_layer, self.channel_name, self.groups_joined)
        self.hub.keep_joined(self.channel_name, self.groups_joined)
        self.subscription = await db_call(subscription_for)(
            user=user, query_string=self.scope.get("query_string", b""), login_key=login_key
        )
        tenant = self.subscription.tenant
        if tenant is not None and self.subscription.topics:
            self.renders = asyncio.Queue(RENDER_QUEUE_LIMIT)
            self.renderer = asyncio.get_running_loop().create_task(self._render_in_order())
            self.listener = self._on_event  # one bound method, to unsubscribe the same one
            await self.hub.subscribe(tenant.pk, self.listener)
        shutdown.track(self)  # a restarting server closes it with 4012: the page reconnects elsewhere
        await self.accept()
        self.rechecking = recheck_access_periodically(
            lambda: self.access_changed({}), f"live page of user {user.pk}"
        )
        if self.renders is not None and not self.closing:  # what changed since the page was rendered
            for topic in await db_call(topics_missed)(subscription=self.subscription):
                self._queue_render(topic, {})

    def _on_event(self, event: Event | None) -> None:
        """From the hub, on the loop: queue the renders this event asks for (None: all of them)."""
        assert self.subscription is not None
        if event is None:
            for topic in self.subscription.topics:
                self._queue_render(topic, {})
            return
        for topic in topics_following(event, self.subscription.topics):
            self._queue_render(topic, event.as_message())

    def _queue_render(self, topic: str, data: dict[str, Any]) -> None:
        assert self.renders is not None
        try:
            self.renders.put_nowait((topic, data))
        except asyncio.QueueFull:  # far behind: drop the backlog, render everything once
            while not self.renders.empty():
                self.renders.get_nowait()
            for name in self.subscription.topics if self.subscription else ():
                self.renders.put_nowait((name, {}))

    async def _render_in_order(self) -> None:
        """One render at a time, in the order the events came: an older state never wins."""
        assert self.renders is not None and self.subscription is not None
        while True:
            topic, data = await self.renders.get()
            tenant = self.subscription.tenant
            html = await db_call(render_topic)(topic=topic, user=self.scope["user"], tenant=tenant, data=data)
            if html:
                await self.send(text_data=html)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """The groups it sits in are shared with app tabs: a message type of theirs is skipped, not fatal."""
        message_type = str(message.get("type", ""))
        if message_type.startswith("_") or not callable(getattr(self, message_type.replace(".", "_"), None)):
            logger.info("live page: no handler for %r, skipped", message_type[:50])
            return
        await super().dispatch(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The page only listens."""

    async def disconnect(self, code: int) -> None:
        """Also undoes a connect that failed midway: each step only undoes what was done."""
        shutdown.forget(self)
        for task in (getattr(self, "renderer", None), getattr(self, "rechecking", None)):
            if task is not None:
                task.cancel()
        hub = getattr(self, "hub", None)
        if hub is not None:
            hub.forget(self.channel_name)
            listener = getattr(self, "listener", None)
            if listener is not None and self.subscription and self.subscription.tenant is not None:
                await hub.unsubscribe(self.subscription.tenant.pk, listener)
        await channel_leave(self.channel_layer, self.channel_name, getattr(self, "groups_joined", []))

    # --- messages from the rest of the platform ---
    async def notify_toast(self, event: dict[str, Any]) -> None:
        """A notification: the toast and the inbox badge, already rendered as out-of-band swaps."""
        await self.send(text_data=event["html"])

    async def access_changed(self, event: dict[str, Any]) -> None:
        if self.subscription is None:
            return
        # On the database pool, not Channels' one shared sync thread (every page view's).
        code, user = await db_call(self._access_now)(subscription=self.subscription)
        if code is not None:
            self.closing = True
            await self.close(code)
            return
        self.scope["user"] = user  # what the next renders judge
        if self._may_see_otherwise(event):
            # Still a member, but what they may see changed (an app's teams, say): every topic of
            # the page again, as after a gap.
            self._on_event(None)

    def _may_see_otherwise(self, event: dict[str, Any]) -> bool:
        """A change of access in this page's tenant (or in all of the user's), told by a message:
        the periodic look has none, and a change in another tenant leaves this page as it is."""
        if event.get("type") != "access.changed" or self.renders is None or self.subscription is None:
            return False
        tenant_id = event.get("tenant_id")
        return (
            tenant_id is None or self.subscription.tenant is None or tenant_id == self.subscription.tenant.pk
        )

    @staticmethod
    def _access_now(*, subscription: Subscription) -> tuple[int | None, Any]:
        """The close code for a user who may no longer hold this page's socket, or (None, the user
        as they are now)."""
        if not still_signed_in(user_id=subscription.user_id, session_key=subscription.login_key):
            return CLOSE_SERVICE_RESTART, None  # the page reconnects with the sign-in it has now
        user = member_now(subscription=subscription)
        return (CLOSE_FORBIDDEN, None) if user is None else (None, user)

    async def login_ended(self, event: dict[str, Any]) -> None:
        await self.close(CLOSE_NOT_SIGNED_IN)
