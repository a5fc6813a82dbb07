"""Daphne's CPU per event on uvloop against Python's own loop (DASHBOARDS_EVENT_LOOP), over a raw
WebSocket, so that no browser shares the two cores while the server's CPU is read.

For each loop in turn (``--rounds`` times, alternating, each on a platform started afresh): one
signed-in tab of the counter demo and the loads of ``server_layers.py`` (200 warm-up events; 350
back to back, 8 times; 80 events/s for 20 s; one every 250 ms for 15 s), with Daphne's CPU per
event and the round trip's p50 and p99 in each. Idle work between events counts in the last two,
as in a tab that clicks now and then.

Usage: python bench/event_loop_cpu.py [--rounds 3] [--json FILE]
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import server_layers
from common import Platform, arguments, emit, machine, medians, open_tab, sign_in

LOOPS = ("asyncio", "uvloop")


async def measure(platform: Platform) -> dict[str, float]:
    cookie = sign_in(platform.url)
    tab = open_tab(platform.url, cookie)
    daphne = platform.daphne
    return await server_layers.measure(tab.ws_url, tab.click, daphne, origin=platform.url, cookie=cookie)


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
    results["median"] = medians(runs)
    emit(results, options.json)


if __name__ == "__main__":
    main()
