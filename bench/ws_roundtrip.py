"""Handler round trip over raw WebSockets with 1, 100 and 1,000 concurrent sessions, the platform's
one Daphne process against the bare reference server, in one run.

Each platform session is a signed-in user's tab of the counter demo, opened as a browser would:
GET the app page (a fresh server-side session), connect with its sid and release, then send what
the "Add one" button sends and time until the answer frame. Two kinds of load:

- closed loop: every session sends its next event as soon as the last one is answered (1 session:
  350 events, inside the platform's burst of 400; more sessions: for a fixed time). Gives the
  most events/s one process answers and the latency at that saturation.
- paced: 1,000 sessions, each one event per second at its own phase (1,000 events/s in total),
  open loop (a late answer never delays the next send), for a fixed time: the issue's target.

The client is Python (websockets with its defaults: it offers compression, as browsers do; Daphne
declines it, the reference accepts it), one asyncio process, on the same 2-core machine as the server,
so it takes CPU from it; its own CPU use and how late it sent are reported next to the figures.
Usage: python bench/ws_roundtrip.py [--sessions 1 100 1000] [--seconds 10] [--paced-seconds 20]
"""

from __future__ import annotations

import asyncio
import collections
import random
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psutil
from common import (
    PlainChannels,
    Platform,
    Reference,
    Tab,
    arguments,
    cpu_seconds,
    emit,
    machine,
    open_tab,
    percentiles,
    raise_fd_limit,
    sign_in,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

REPLY_TIMEOUT = 30.0  # an answer later than this counts as lost
ONE_SESSION_EVENTS = 350  # inside the platform's burst (400), so the rate limit never drops one
CONNECT_CONCURRENCY = 50
PAGE_CONCURRENCY = 4  # page GETs at once (two cores: more only queue in Daphne)
SETTLE_SECONDS = 2.0


@dataclass
class Server:
    """What the load generator needs from either server."""

    name: str
    processes: list[psutil.Process]
    open_tabs: Callable[[int], Awaitable[list[Tab]]]
    origin: str
    headers: dict[str, str] = field(default_factory=dict)
    expect: str = ""  # every answer must hold this (the counter's fragment), or the run says so
    log_errors: Callable[[], int] = lambda: 0


@dataclass
class Meter:
    """CPU of the server's processes and of this client over one phase."""

    server: list[psutil.Process]
    started: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    def __enter__(self) -> Meter:
        self.started = time.perf_counter()
        self.server_cpu = cpu_seconds(*self.server)
        self.client_cpu = cpu_seconds(psutil.Process())
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.started
        self.server_cpu = cpu_seconds(*self.server) - self.server_cpu
        self.client_cpu = cpu_seconds(psutil.Process()) - self.client_cpu

    def figures(self, events: int) -> dict[str, float]:
        return {
            "seconds": round(self.elapsed, 2),
            "server_cpu_per_event_ms": round(self.server_cpu / max(events, 1) * 1000, 3),
            "server_cpu_busy": round(self.server_cpu / self.elapsed, 2),  # 1.0 = one core all the time
            "client_cpu_busy": round(self.client_cpu / self.elapsed, 2),
        }


async def connect_all(server: Server, tabs: list[Tab]) -> list[ClientConnection]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(tab: Tab) -> ClientConnection:
        async with gate:
            return await connect(
                tab.ws_url,
                origin=server.origin,
                additional_headers=server.headers,  # type: ignore[arg-type]
                proxy=None,
                open_timeout=120,
                ping_interval=None,
                close_timeout=5,
                max_queue=None,
            )

    return list(await asyncio.gather(*(one(tab) for tab in tabs)))


class UnexpectedReply(Exception):
    """The server answered, but not with the counter's new value (an error toast, say)."""


async def round_trip(connection: ClientConnection, message: str, expect: str = "") -> float:
    started = time.perf_counter()
    await connection.send(message)
    reply = await asyncio.wait_for(connection.recv(), REPLY_TIMEOUT)
    elapsed = (time.perf_counter() - started) * 1000
    if expect not in str(reply):
        raise UnexpectedReply(str(reply)[:200])
    return elapsed


async def closed_loop(
    connections: list[ClientConnection],
    messages: list[str],
    *,
    seconds: float,
    max_events: int | None,
    expect: str,
) -> tuple[list[float], int]:
    """Every session: send, wait for the answer, send again; until the time or the count is up."""
    samples: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def session(connection: ClientConnection, message: str) -> None:
        nonlocal errors
        sent = 0
        while time.perf_counter() < deadline and (max_events is None or sent < max_events):
            try:
                samples.append(await round_trip(connection, message, expect))
            except (ConnectionClosed, TimeoutError, UnexpectedReply):
                errors += 1
                return
            sent += 1

    await asyncio.gather(*(session(c, m) for c, m in zip(connections, messages, strict=True)))
    return samples, errors


async def paced(
    connections: list[ClientConnection],
    messages: list[str],
    *,
    per_second: float,
    seconds: float,
    expect: str,
) -> dict[str, Any]:
    """Open loop: each session sends at its own phase, `per_second` times a second, whatever the answers."""
    interval = 1.0 / per_second
    samples: list[float] = []
    lateness: list[float] = []
    counts = {"lost": 0, "errors": 0, "unexpected": 0}
    start = time.perf_counter() + 0.5

    async def receive(connection: ClientConnection, waiting: collections.deque[float]) -> None:
        while True:
            reply = await connection.recv()
            if expect not in str(reply):
                counts["unexpected"] += 1
            if waiting:
                samples.append((time.perf_counter() - waiting.popleft()) * 1000)

    async def session(connection: ClientConnection, message: str) -> None:
        waiting: collections.deque[float] = collections.deque()
        phase = random.uniform(0, interval)
        receiver = asyncio.create_task(receive(connection, waiting))
        try:
            k = 0
            while (at := start + phase + k * interval) < start + seconds:
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                now = time.perf_counter()
                lateness.append((now - at) * 1000)
                waiting.append(now)
                await connection.send(message)
                k += 1
            drain_until = time.perf_counter() + REPLY_TIMEOUT
            while waiting and time.perf_counter() < drain_until and not receiver.done():
                await asyncio.sleep(0.05)
        except ConnectionClosed:
            pass
        finally:
            counts["lost"] += len(waiting)
            receiver.cancel()
            try:
                await receiver
            except asyncio.CancelledError:
                pass
            except ConnectionClosed:
                counts["errors"] += 1

    await asyncio.gather(*(session(c, m) for c, m in zip(connections, messages, strict=True)))
    return {"samples": samples, "lateness": lateness, **counts}


def negotiated(connection: ClientConnection) -> str | None:
    """The extensions the server accepted (Daphne: none; the reference: per-message deflate)."""
    response = connection.response
    return response.headers.get("Sec-WebSocket-Extensions") if response is not None else None


async def measure(server: Server, sessions: int, *, seconds: float, paced_seconds: float) -> dict[str, Any]:
    """Open `sessions` tabs, warm them up with one event each, then the closed loop (and the paced load)."""
    tabs = await server.open_tabs(sessions)
    connections = await connect_all(server, tabs)
    messages = [tab.click for tab in tabs]
    result: dict[str, Any] = {
        "sessions": sessions,
        "extensions": negotiated(connections[0]),
    }
    errors_before = server.log_errors()
    try:
        pairs = zip(connections, messages, strict=True)
        firsts = (round_trip(c, m, server.expect) for c, m in pairs)
        warm = await asyncio.gather(*firsts, return_exceptions=True)
        result["first_event_ms"] = percentiles([w for w in warm if isinstance(w, float)])
        result["first_event_failures"] = sum(1 for w in warm if not isinstance(w, float))
        await asyncio.sleep(SETTLE_SECONDS)  # the one session's token bucket refills
        with Meter(server.processes) as meter:
            samples, errors = await closed_loop(
                connections,
                messages,
                seconds=seconds,
                max_events=ONE_SESSION_EVENTS if sessions == 1 else None,
                expect=server.expect,
            )
        result["closed_loop"] = {
            "events_per_second": round(len(samples) / meter.elapsed, 1),
            "latency_ms": percentiles(samples),
            "errors": errors,
            **meter.figures(len(samples)),
        }
        if paced_seconds and sessions >= 1000:
            await asyncio.sleep(SETTLE_SECONDS)
            with Meter(server.processes) as meter:
                load = await paced(
                    connections, messages, per_second=1.0, seconds=paced_seconds, expect=server.expect
                )
            result["paced_1_per_session_per_second"] = {
                "events_per_second": round(len(load["samples"]) / paced_seconds, 1),
                "latency_ms": percentiles(load["samples"]),
                "lost": load["lost"],
                "errors": load["errors"],
                "unexpected_answers": load["unexpected"],
                "client_send_lateness_ms": percentiles(load["lateness"]),
                **meter.figures(len(load["samples"])),
            }
        result["server_errors_in_log"] = server.log_errors() - errors_before
    finally:
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
    await asyncio.sleep(SETTLE_SECONDS)
    return result


def platform_server(platform: Platform) -> Server:
    cookie = sign_in(platform.url)
    pool = ThreadPoolExecutor(PAGE_CONCURRENCY)

    async def open_tabs(n: int) -> list[Tab]:
        loop = asyncio.get_running_loop()
        return list(
            await asyncio.gather(
                *(loop.run_in_executor(pool, open_tab, platform.url, cookie) for _ in range(n))
            )
        )

    return Server(
        name="platform",
        processes=[platform.daphne, platform.redis_process],
        open_tabs=open_tabs,
        origin=platform.url,
        headers={"Cookie": cookie},
        log_errors=lambda: platform.count_in_log("Exception inside application"),
        expect='id="count"',
    )


def reference_server(reference: Reference, name: str = "reference") -> Server:
    """The bare reference, or the plain Channels consumer: one socket URL, any text is a click."""

    async def open_tabs(n: int) -> list[Tab]:
        return [Tab(ws_url=reference.url.replace("http://", "ws://") + "/ws", click="add")] * n

    return Server(name=name, processes=[reference.psutil], open_tabs=open_tabs, origin=reference.url)


def main() -> None:
    parser = arguments(__doc__ or "")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each closed-loop phase")
    parser.add_argument(
        "--paced-seconds", type=float, default=20.0, help="length of the paced phase (0: none)"
    )
    options = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "ws_roundtrip",
        "machine": machine(),
        "stock": options.stock,
        "fd_limit": raise_fd_limit(),
        "client": "Python websockets, one asyncio process, same machine",
    }
    with Reference() as reference, PlainChannels() as plain, Platform(stock=options.stock) as platform:
        servers = (
            reference_server(reference),
            reference_server(plain, "plain_channels"),
            platform_server(platform),
        )
        for server in servers:
            results[server.name] = {}
            for n in options.sessions:
                print(f"{server.name}: {n} sessions...", file=sys.stderr, flush=True)
                results[server.name][str(n)] = asyncio.run(
                    measure(server, n, seconds=options.seconds, paced_seconds=options.paced_seconds)
                )
    emit(results, options.json)


if __name__ == "__main__":
    main()
