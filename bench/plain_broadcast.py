"""The Channels floor for the events benchmark: a plain Channels consumer per socket on Daphne,
every one in one channel-layer group of channels-redis (the same Redis as the platform, its own
prefix); a ``group_send`` from another process reaches them all (channels-redis sends one Redis
message per receiving process, which fans it out to its consumers). No sign-in, no state, no
database. Served by Daphne from bench/ (``python -m daphne plain_broadcast:application``);
``REDIS_URL`` names the Redis.
"""

from __future__ import annotations

import os
from typing import Any

import django
from django.conf import settings

GROUP = "bench_tick"
PREFIX = "plainbench"


def layer_config(url: str) -> dict[str, Any]:
    return {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url], "prefix": PREFIX}}


if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="plain-broadcast-benchmark-only-" + "0" * 40,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={"default": layer_config(os.environ["REDIS_URL"])},
        ROOT_URLCONF=__name__,
        USE_TZ=True,
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

urlpatterns: list[Any] = []


class Tick(AsyncWebsocketConsumer):
    groups = [GROUP]  # joined on connect by Channels

    async def tick_send(self, message: dict[str, Any]) -> None:
        await self.send(text_data=f'<span id="tick" hx-swap-oob="true">{message["value"]}</span>')


async def http_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok\n"})


application = ProtocolTypeRouter({"http": http_app, "websocket": URLRouter([path("ws", Tick.as_asgi())])})
