"""A second yardstick, between the bare reference and the platform: the same counter as a plain
Channels consumer on Daphne, answering htmx with one out-of-band fragment (no sign-in, no tenant
check, no state store, in-memory channel layer). The platform's cost over it is the platform's own;
its cost over the reference is Daphne's, Channels' and htmx's.

Served by Daphne from this module (``python -m daphne plain_channels:application``, run from
bench/): the page, the two vendored htmx scripts, and the socket at /ws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
from django.conf import settings

STATIC = Path(__file__).resolve().parents[1] / "static" / "vendor"
SCRIPTS = {
    "/htmx.min.js": STATIC / "htmx" / "htmx.min.js",
    "/ws.min.js": STATIC / "htmx-ext-ws" / "ws.min.js",
}
PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>plain channels</title>
<script src="/htmx.min.js" defer></script><script src="/ws.min.js" defer></script></head><body>
<div hx-ext="ws" ws-connect="/ws">
<button id="add" ws-send hx-trigger="click">Add one</button> <div id="count">0</div>
</div></body></html>"""

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="plain-channels-benchmark-only-" + "0" * 40,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        ROOT_URLCONF=__name__,
        USE_TZ=True,
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

urlpatterns: list[Any] = []


class Counter(AsyncWebsocketConsumer):
    """One counter per socket; each message answers with the new value as an out-of-band swap."""

    async def connect(self) -> None:
        self.count = 0
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.count += 1
        await self.send(text_data=f'<div id="count" hx-swap-oob="true">{self.count}</div>')


async def http_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The page and the two scripts; nothing else."""
    file = SCRIPTS.get(scope["path"])
    body, kind = (file.read_bytes(), b"text/javascript") if file else (PAGE, b"text/html; charset=utf-8")
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(URLRouter([path("ws", Counter.as_asgi())])),
    }
)
