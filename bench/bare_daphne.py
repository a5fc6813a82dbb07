"""Daphne's own floor: the reference's counter as a bare ASGI application (no Django, no Channels)
on Daphne, so that what Daphne itself costs per event (Twisted, autobahn, the ASGI queue) can be
told apart from what Channels and the platform add.

Served from bench/: ``python -m daphne bare_daphne:application`` (asyncio) or
``python -m dashboards.config.daphne_server bare_daphne:application`` (uvloop), both with the
platform's frame limits. Every path but /ws gets the reference's page.
"""

from __future__ import annotations

from typing import Any

from reference import PAGE


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await counter(receive, send)
    else:
        await page(receive, send)


async def counter(receive: Any, send: Any) -> None:
    """One counter per connection; every message adds one and the new value goes back."""
    count = 0
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            count += 1
            await send({"type": "websocket.send", "text": str(count)})
        else:  # websocket.disconnect
            return


async def page(receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(PAGE)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": PAGE})
