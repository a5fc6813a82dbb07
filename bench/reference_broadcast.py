"""The floor for the events benchmark: a bare `websockets` server that sends one frame to every
listener (``websockets.broadcast``) when its control socket names a value. Listeners connect to
/ws, the benchmark's sender to /control. Usage: python bench/reference_broadcast.py PORT
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

LISTENERS: set[ServerConnection] = set()


async def handler(connection: ServerConnection) -> None:
    path = connection.request.path if connection.request else ""
    if path.startswith("/control"):
        async for value in connection:
            broadcast(LISTENERS, f'<span id="tick" hx-swap-oob="true">{value}</span>')
        return
    LISTENERS.add(connection)
    try:
        await connection.wait_closed()
    finally:
        LISTENERS.discard(connection)


async def http_ok(connection: ServerConnection, request: object) -> object:
    if getattr(request, "path", "") == "/":  # the benchmark's readiness check
        return connection.respond(200, "ok\n")
    return None


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, process_request=http_ok, compression=None,
                     ping_interval=None, max_queue=None):  # fmt: skip
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
