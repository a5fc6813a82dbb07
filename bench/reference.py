"""The floor every figure is compared with: a bare page of plain JavaScript and a bare Python
WebSocket server that keeps a counter per connection, on one port (HTTP and WebSocket).

It does the least a live counter can do (no sign-in, no templates, no state store), so the ratio
platform / reference says what the platform's features cost on this machine, today. It runs with
websockets' defaults (per-message deflate offered to clients that ask, as browsers do), the floor
the issue quotes; --no-compression gives the leaner variant that matches Daphne, which never
compresses (the memory benchmark reports both).
Usage: python bench/reference.py PORT [--no-compression]
"""

from __future__ import annotations

import asyncio
import http
import sys

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>reference</title></head><body>
<button id="add">Add one</button> <span id="count">0</span>
<script>
const ws = new WebSocket(`ws://${location.host}/ws`);
ws.onmessage = (e) => { document.getElementById("count").textContent = e.data; };
document.getElementById("add").onclick = () => ws.send("add");
</script></body></html>"""


async def counter(websocket: ServerConnection) -> None:
    """One counter per connection; every message adds one and the new value goes back."""
    count = 0
    async for _ in websocket:
        count += 1
        await websocket.send(str(count))


def page(connection: ServerConnection, request: Request) -> Response | None:
    """Every path but /ws gets the page; /ws goes on to the WebSocket handshake."""
    if request.path == "/ws":
        return None
    headers = Headers([("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(PAGE)))])
    return Response(http.HTTPStatus.OK, "OK", headers, PAGE)


async def main(port: int, compression: str | None) -> None:
    async with serve(counter, "127.0.0.1", port, process_request=page, compression=compression):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), None if "--no-compression" in sys.argv[2:] else "deflate"))
