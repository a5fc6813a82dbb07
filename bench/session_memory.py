"""Server memory per open session: RSS growth of the platform's Daphne process over 50 (and 500)
idle sessions, each opened as a browser tab would be and sent one event, against the reference.

Readings are taken when the server is quiet (under 5 % of a core), after a warm-up (10 sessions
that stay open, then 50 app pages fetched and dropped), so first-use costs (imports, caches, the
loaded release, the heap the page view needs while it runs) are not counted as sessions'. The
platform's Redis growth (the sessions' snapshots) is given too, apart: it lives in another process.
The reference is measured twice: with websockets' defaults (per-message deflate, which the client
asks for as browsers do: the issue's floor) and without compression (Daphne never compresses).
Usage: python bench/session_memory.py [--counts 50 500] [--json out.json] [--stock]
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import psutil
from common import (
    PlainChannels,
    Platform,
    Reference,
    arguments,
    emit,
    machine,
    raise_fd_limit,
    rss_bytes,
    wait_quiet,
)
from websockets.asyncio.client import ClientConnection
from ws_roundtrip import Server, connect_all, platform_server, reference_server, round_trip

WARM_UP_SESSIONS = 10  # opened and kept before the first reading
# Then app pages fetched and dropped: the first page views after the first sockets grow the heap
# by some 4 MB once (thread arenas, caches), which is no session's (docs/performance.md).
WARM_UP_PAGES = 50


async def add_sessions(server: Server, n: int, held: list[ClientConnection]) -> tuple[int, int]:
    """Open n tabs (pages first, then sockets, then one event each); return RSS after pages and after all."""
    main = server.processes[0]
    tabs = await server.open_tabs(n)
    await asyncio.to_thread(wait_quiet, main)
    after_pages = rss_bytes(main)
    connections = await connect_all(server, tabs)
    held.extend(connections)
    pairs = zip(connections, tabs, strict=True)
    await asyncio.gather(*(round_trip(c, tab.click, server.expect) for c, tab in pairs))
    await asyncio.sleep(1.0)
    await asyncio.to_thread(wait_quiet, main)
    return after_pages, rss_bytes(main)


async def measure(server: Server, counts: list[int], redis_memory: Any = None) -> dict[str, Any]:
    held: list[ClientConnection] = []
    main: psutil.Process = server.processes[0]
    result: dict[str, Any] = {}
    try:
        await add_sessions(server, WARM_UP_SESSIONS, held)
        await server.open_tabs(WARM_UP_PAGES)
        await asyncio.to_thread(wait_quiet, main)
        opened = 0
        rss_before = rss_step = rss_bytes(main)
        redis_before = redis_memory() if redis_memory else 0
        for count in sorted(counts):
            started = time.perf_counter()
            after_pages, after_all = await add_sessions(server, count - opened, held)
            new = count - opened
            figures = {
                "rss_before_mb": round(rss_before / 2**20, 1),
                "rss_after_mb": round(after_all / 2**20, 1),
                "kb_per_session": round((after_all - rss_before) / count / 1024, 1),
                # of this step's new sessions: growth while their pages were served, then the sockets
                "step_pages_kb_per_session": round((after_pages - rss_step) / new / 1024, 1),
                "step_sockets_kb_per_session": round((after_all - after_pages) / new / 1024, 1),
                "open_seconds": round(time.perf_counter() - started, 1),
            }
            opened, rss_step = count, after_all
            if redis_memory:
                figures["redis_kb_per_session"] = round((redis_memory() - redis_before) / count / 1024, 1)
            result[str(count)] = figures
            print(f"{server.name}: {count} sessions: {figures}", file=sys.stderr, flush=True)
        result["still_open"] = sum(1 for c in held if c.close_code is None)
    finally:
        await asyncio.gather(*(c.close() for c in held), return_exceptions=True)
    return result


def main() -> None:
    parser = arguments(__doc__ or "")
    parser.add_argument("--counts", type=int, nargs="+", default=[50, 500])
    options = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "session_memory",
        "machine": machine(),
        "stock": options.stock,
        "fd_limit": raise_fd_limit(),
    }
    with (
        Reference() as reference,
        Reference(compression=False) as bare,
        PlainChannels() as plain,
        Platform(stock=options.stock) as platform,
    ):
        results["reference"] = asyncio.run(measure(reference_server(reference), options.counts))
        results["reference_without_compression"] = asyncio.run(
            measure(reference_server(bare, "reference_without_compression"), options.counts)
        )
        results["plain_channels"] = asyncio.run(
            measure(reference_server(plain, "plain_channels"), options.counts)
        )
        results["platform"] = asyncio.run(
            measure(platform_server(platform), options.counts, platform.redis_used_memory)
        )
        results["platform"]["server_errors_in_log"] = platform.count_in_log("Exception inside application")
    emit(results, options.json)


if __name__ == "__main__":
    main()
