"""Did a change make a click slower? Two commits' platforms at once, compared in alternating rounds.

Two runs of `run_all.py` minutes apart can differ by a third to a half on a shared 2-vCPU machine
(docs/performance.md, the eighth session), so comparing their tables says little about a change.
Here both commits run side by side (each exported as `run_all.py --commit` does, each with one
Daphne, its worker and its Redis), one Chromium tab signed in on each, and rounds of back-to-back
clicks alternate between them, the order flipping every round: the machine's drift falls on both.
Prints every round and the medians of the rounds' p50 and server CPU per click.

Usage: python bench/ab_clicks.py OLD_REV NEW_REV [--rounds 12] [--clicks 300] [--json FILE]
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
from click_latency import measure, sign_in_storage
from common import APP_PATH, CHROMIUM_ARGS, Platform, arguments, cpu_seconds, emit, machine
from playwright.sync_api import sync_playwright
from run_all import export

CLICK, VALUE = "#add button", "#count .dc-metric-value"  # the counter demo, as click_latency.py


def hold() -> None:
    """In a child, from an exported tree: start its platform, say where it is, hold it until stdin
    closes (so each commit's platform runs its own code and imports)."""
    with Platform() as platform:
        where = {"url": platform.url, "pids": [platform.daphne.pid, platform.redis_process.pid]}
        print(json.dumps(where), flush=True)
        sys.stdin.read()


def start(tree: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    command = [sys.executable, str(tree / "bench" / "ab_clicks.py"), "--hold"]
    process = subprocess.Popen(command, cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("{"):
            return process, json.loads(line)
    raise RuntimeError(f"the platform of {tree} did not start")


def compare(revisions: dict[str, str], rounds: int, n: int) -> dict[str, Any]:
    trees = {side: export(revision) for side, revision in revisions.items()}
    servers: dict[str, tuple[subprocess.Popen[str], dict[str, Any]]] = {}
    try:
        for side, tree in trees.items():
            servers[side] = start(tree)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            pages = {}
            for side, (_, where) in servers.items():
                storage = sign_in_storage(browser, where["url"])
                page = browser.new_context(base_url=where["url"], storage_state=storage).new_page()
                page.goto(APP_PATH)
                page.wait_for_selector(VALUE)
                measure(page, CLICK, VALUE, 100, 0)  # warm-up
                pages[side] = page
            results: list[dict[str, Any]] = []
            for number in range(rounds):
                for side in ("old", "new") if number % 2 == 0 else ("new", "old"):
                    processes = [psutil.Process(pid) for pid in servers[side][1]["pids"]]
                    before = cpu_seconds(*processes)
                    latency = measure(pages[side], CLICK, VALUE, n, 0)
                    cpu_ms = (cpu_seconds(*processes) - before) / n * 1000
                    row = {"round": number, "side": side, "cpu_ms": round(cpu_ms, 3)}
                    results.append({**row, "p50": latency["p50"], "p99": latency["p99"]})
                    print(number, side, f"p50 {latency['p50']:.2f} p99 {latency['p99']:.2f} "
                          f"cpu/click {cpu_ms:.3f} ms", file=sys.stderr, flush=True)  # fmt: skip
    finally:
        for process, _ in servers.values():
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=120)
        for tree in trees.values():
            shutil.rmtree(tree, ignore_errors=True)
    medians = {
        side: {
            figure: round(statistics.median(r[figure] for r in results if r["side"] == side), 3)
            for figure in ("p50", "p99", "cpu_ms")
        }
        for side in revisions
    }
    return {"revisions": revisions, "rounds": rounds, "clicks": n, "medians": medians, "every_round": results}


def main() -> None:
    if sys.argv[1:] == ["--hold"]:
        hold()
        return
    parser = arguments(__doc__ or "")
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--clicks", type=int, default=300)
    options = parser.parse_args()
    results = compare({"old": options.old, "new": options.new}, options.rounds, options.clicks)
    emit({"machine": machine(), **results}, options.json)


if __name__ == "__main__":
    main()
