"""The one socket of every platform page that is not an app page: toasts, the badge, live topics."""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from dashboards.live.subscriptions import Subscription, still_member, subscription_for
from dashboards.live.topics import render_topic
from dashboards.runtime import shutdown
from dashboards.runtime.db import db_call
from dashboards.runtime.protocol import CLOSE_FORBIDDEN, CLOSE_NOT_SIGNED_IN

logger = logging.getLogger(__name__)


class LivePageConsumer(AsyncWebsocketConsumer):
    subscription: Subscription | None = None

    async def connect(self) -> None:
        self.groups_joined: list[str] = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()  # then closed: the browser sees our code (a refused handshake is a bare 403)
            await self.close(CLOSE_NOT_SIGNED_IN)
            return
        session = self.scope.get("session")
        self.subscription = await database_sync_to_async(subscription_for)(
            user=user,
            query_string=self.scope.get("query_string", b""),
            login_key=session.session_key if session else None,
        )
        for group in self.subscription.groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        shutdown.track(self)  # a restarting server closes it with 4012: the page reconnects elsewhere
        await self.accept()

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
        shutdown.forget(self)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- messages from the rest of the platform ---
    async def notify_toast(self, event: dict[str, Any]) -> None:
        """A notification: the toast and the inbox badge, already rendered as out-of-band swaps."""
        await self.send(text_data=event["html"])

    async def live_changed(self, event: dict[str, Any]) -> None:
        subscription = self.subscription
        if (
            subscription is None
            or subscription.tenant is None
            or event.get("topic") not in subscription.topics
        ):
            return
        html = await db_call(render_topic)(
            topic=event["topic"],
            user=self.scope["user"],
            tenant=subscription.tenant,
            data=event.get("data") or {},
        )
        if html:
            await self.send(text_data=html)

    async def access_changed(self, event: dict[str, Any]) -> None:
        if self.subscription is None:
            return
        if not await database_sync_to_async(still_member)(subscription=self.subscription):
            await self.close(CLOSE_FORBIDDEN)

    async def login_ended(self, event: dict[str, Any]) -> None:
        await self.close(CLOSE_NOT_SIGNED_IN)
