"""Daphne's CPU per event on uvloop against Python's own loop (DASHBOARDS_EVENT_LOOP), over a raw
WebSocket, so that no browser shares the two cores while the server's CPU is read.

For each loop in turn (``--rounds`` times, alternating, each on a platform started afresh): one
signed-in tab of the counter demo, 200 warm-up events, then two loads, with Daphne's CPU read
before and after each:

- bursts: 350 events back to back (inside the platform's burst of 400), 8 times, 4.2 s apart so the
  rate limit refills; only the bursts are counted;
- paced: 80 events/s for 20 s, the CPU of the whole interval divided by the events (idle work
  between events counts too, as in a tab that clicks now and then).

Usage: python bench/event_loop_cpu.py [--rounds 3] [--json FILE]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

from common import Platform, arguments, cpu_seconds, emit, machine, open_tab, sign_in
from websockets.asyncio.client import connect

LOOPS = ("asyncio", "uvloop")
BURSTS = 8
BURST_EVENTS = 350
BURST_GAP_SECONDS = 4.2
PACED_RATE = 80
PACED_SECONDS = 20


async def measure(platform: Platform) -> dict[str, float]:
    cookie = sign_in(platform.url)
    tab = open_tab(platform.url, cookie)
    daphne = platform.daphne
    async with connect(
        tab.ws_url, origin=platform.url, additional_headers={"Cookie": cookie}, proxy=None, ping_interval=None
    ) as socket:  # type: ignore[arg-type]

        async def event() -> None:
            await socket.send(tab.click)
            await socket.recv()

        for _ in range(200):
            await event()
        used = 0.0
        for _ in range(BURSTS):
            await asyncio.sleep(BURST_GAP_SECONDS)
            before = cpu_seconds(daphne)
            for _ in range(BURST_EVENTS):
                await event()
            used += cpu_seconds(daphne) - before
        burst_ms = used / (BURSTS * BURST_EVENTS) * 1000
        await asyncio.sleep(BURST_GAP_SECONDS)
        before = cpu_seconds(daphne)
        start = time.perf_counter()
        sent = 0
        while time.perf_counter() - start < PACED_SECONDS:
            delay = start + sent / PACED_RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await event()
            sent += 1
        paced_ms = (cpu_seconds(daphne) - before) / sent * 1000
    return {"burst_cpu_per_event_ms": round(burst_ms, 3), "paced_cpu_per_event_ms": round(paced_ms, 3)}


def main() -> None:
    parser = arguments(__doc__ or "")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {loop: [] for loop in LOOPS}
    for _ in range(options.rounds):
        for loop in LOOPS:
            os.environ["DASHBOARDS_EVENT_LOOP"] = loop  # the platform's processes inherit it
            with Platform() as platform:
                runs[loop].append(asyncio.run(measure(platform)))
    results: dict[str, Any] = {"benchmark": "event_loop_cpu", "machine": machine(), "runs": runs}
    results["median"] = {
        loop: {name: round(statistics.median(run[name] for run in done), 3) for name in done[0]}
        for loop, done in runs.items()
    }
    emit(results, options.json)


if __name__ == "__main__":
    main()
