"""Where a click's server CPU and time go, layer by layer: the same event over a raw WebSocket,
answered by the reference (websockets), by Daphne with a bare ASGI counter, by a plain Channels
consumer on Daphne, and by the platform; Daphne on Python's loop and on uvloop.

No browser shares the two cores, so the readings are the servers' alone. Every server gets the
same frame (the counter demo's click, as htmx sends it) on one socket, after 200 warm-up events:

- burst: 350 events back to back, 8 times, 4.2 s apart (the platform's rate limit refills);
- paced: 80 events/s for 20 s;
- paused: one event every 250 ms for 15 s (as the click benchmark's paused clicks).

Each phase reports the serving process's CPU per event (for the platform, Daphne's; Redis's is
reported beside it for bursts; idle work between events counts in the paced and paused phases)
and the round trip's p50 and p99 as the client sees it. ``--rounds`` repeats the whole sequence,
each server started afresh; the medians of the rounds are reported.
Usage: python bench/server_layers.py [--rounds 3] [--only [WORD ...]] [--json FILE]
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psutil
from common import (
    DaphneServer,
    Platform,
    Reference,
    arguments,
    cpu_seconds,
    emit,
    machine,
    medians,
    open_tab,
    percentiles,
    sign_in,
)
from websockets.asyncio.client import ClientConnection, connect

WARM_UP_EVENTS = 200
BURSTS = 8
BURST_EVENTS = 350
GAP_SECONDS = 4.2  # before each burst and phase: the platform's rate limit refills
PACED = ("paced", 80.0, 20.0)  # name, events per second, seconds
PAUSED = ("paused", 4.0, 15.0)


async def round_trip(socket: ClientConnection, message: str) -> float:
    started = time.perf_counter()
    await socket.send(message)
    await socket.recv()
    return (time.perf_counter() - started) * 1000


def figures(name: str, cpu: float, events: int, latencies: list[float]) -> dict[str, float]:
    spread = percentiles(latencies)
    return {
        f"{name}_cpu_per_event_ms": round(cpu / events * 1000, 3),
        f"{name}_p50_ms": spread["p50"],
        f"{name}_p99_ms": spread["p99"],
    }


async def measure(ws_url: str, message: str, server: psutil.Process, *, origin: str,
                  cookie: str = "", redis: psutil.Process | None = None) -> dict[str, float]:  # fmt: skip
    headers = {"Cookie": cookie} if cookie else {}
    async with connect(
        ws_url, origin=origin, additional_headers=headers, proxy=None, ping_interval=None
    ) as socket:  # type: ignore[arg-type]
        for _ in range(WARM_UP_EVENTS):
            await round_trip(socket, message)
        used = redis_used = 0.0
        latencies: list[float] = []
        for _ in range(BURSTS):
            await asyncio.sleep(GAP_SECONDS)
            before, redis_before = cpu_seconds(server), cpu_seconds(redis) if redis else 0.0
            latencies += [await round_trip(socket, message) for _ in range(BURST_EVENTS)]
            used += cpu_seconds(server) - before
            redis_used += cpu_seconds(redis) - redis_before if redis else 0.0
        result = figures("burst", used, len(latencies), latencies)
        if redis:
            result["burst_redis_cpu_per_event_ms"] = round(redis_used / len(latencies) * 1000, 3)
        for name, rate, seconds in (PACED, PAUSED):
            await asyncio.sleep(GAP_SECONDS)
            before, start = cpu_seconds(server), time.perf_counter()
            latencies = []
            while time.perf_counter() - start < seconds:
                delay = start + len(latencies) / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                latencies.append(await round_trip(socket, message))
            result |= figures(name, cpu_seconds(server) - before, len(latencies), latencies)
    return result


def yardsticks() -> dict[str, Callable[[], AbstractContextManager[Reference]]]:
    """The servers below the platform, by name, in the order of what each adds."""
    return {
        "reference (websockets)": Reference,
        "bare ASGI on Daphne, asyncio": lambda: DaphneServer("bare_daphne:application"),
        "bare ASGI on Daphne, uvloop": lambda: DaphneServer("bare_daphne:application", loop="uvloop"),
        "plain Channels on Daphne, asyncio": lambda: DaphneServer("plain_channels:application"),
        "plain Channels on Daphne, uvloop": lambda: DaphneServer("plain_channels:application", loop="uvloop"),
    }


def one_round(only: list[str] | None) -> dict[str, dict[str, float]]:
    done: dict[str, dict[str, float]] = {}
    with Platform() as platform:
        cookie = sign_in(platform.url)
        tab = open_tab(platform.url, cookie)
        measuring = measure(tab.ws_url, tab.click, platform.daphne, origin=platform.url, cookie=cookie,
                         redis=platform.redis_process)  # fmt: skip
        done["platform, uvloop"] = asyncio.run(measuring)
    for name, start in yardsticks().items():
        if only is not None and not any(word in name for word in only):
            continue
        with start() as server:
            ws_url = server.url.replace("http://", "ws://") + "/ws"
            done[name] = asyncio.run(measure(ws_url, tab.click, server.psutil, origin=server.url))
    return done


def main() -> None:
    parser = arguments(__doc__ or "")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only", nargs="*", metavar="WORD",
        help="the platform, and the yardsticks whose name holds one of these words (none: platform only)",
    )  # fmt: skip
    options = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {}
    for _ in range(options.rounds):
        for name, result in one_round(options.only).items():
            runs.setdefault(name, []).append(result)
    results: dict[str, Any] = {"benchmark": "server_layers", "machine": machine(), "runs": runs}
    results["median"] = medians(runs)
    emit(results, options.json)


if __name__ == "__main__":
    main()
