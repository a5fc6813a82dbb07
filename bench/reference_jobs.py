"""The floor for long jobs in the browser: a bare page and a bare WebSocket server that runs the
work (10 steps of 200 ms) as an asyncio task beside the socket, sending each step and the result."""

from __future__ import annotations

import asyncio
import contextlib
import http
import sys

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>reference jobs</title></head><body>
<button id="run">Run</button> <span id="step"></span> <span id="result"></span>
<script>
const ws = new WebSocket(`ws://${location.host}/ws`);
ws.onmessage = (e) => {
  const [kind, text] = e.data.split(":");
  document.getElementById(kind).textContent = text;
};
document.getElementById("run").onclick = () => ws.send("run");
</script></body></html>"""


async def work(websocket: ServerConnection) -> None:
    with contextlib.suppress(ConnectionClosed):  # the page went away: the work stops with it
        for number in range(10):
            await asyncio.sleep(0.2)
            await websocket.send(f"step:step {number + 1}")
        await websocket.send("result:finished")


async def handler(websocket: ServerConnection) -> None:
    tasks: set[asyncio.Task[None]] = set()
    async for _ in websocket:
        task = asyncio.create_task(work(websocket))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


def page(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/ws":
        return None
    headers = Headers([("Content-Type", "text/html"), ("Content-Length", str(len(PAGE)))])
    return Response(http.HTTPStatus.OK, "OK", headers, PAGE)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, process_request=page):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
