"""Two commits' platforms at once, one Chromium tab on each: rounds of 300 back-to-back clicks,
alternating between them (the order flips each round). Usage: python ab2.py ROUNDS OLD_ROOT NEW_ROOT."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import psutil

sys.path[:0] = ["/work/main/bench", "/work/main"]

from click_latency import MEASURE, TIMEOUT_MS, sign_in_storage  # noqa: E402
from common import cpu_seconds  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402


def start(root: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    command = [f"{root}/.venv/bin/python", __file__.replace("ab2.py", "hold.py"), root]
    process = subprocess.Popen(command, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if line.startswith("{"):
            return process, json.loads(line)


def clicks(page: Any, n: int = 300) -> tuple[float, float]:
    arguments = {"click": "#add button", "value": "#count .dc-metric-value", "n": n, "pause": 0,
                 "timeout": TIMEOUT_MS}  # fmt: skip
    samples = sorted(page.evaluate(MEASURE, arguments)["samples"])
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)]


def main() -> None:
    rounds, roots = int(sys.argv[1]), {"old": sys.argv[2], "new": sys.argv[3]}
    servers = {name: start(root) for name, root in roots.items()}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            pages = {}
            for name, (_, info) in servers.items():
                storage = sign_in_storage(browser, info["url"])
                context = browser.new_context(base_url=info["url"], storage_state=storage)
                page = context.new_page()
                page.goto("/t/acme/apps/counter/")
                page.wait_for_selector("#count")
                page.wait_for_timeout(500)
                clicks(page, 100)  # warm-up
                pages[name] = page
            for round_ in range(rounds):
                for name in ("old", "new") if round_ % 2 == 0 else ("new", "old"):
                    processes = [psutil.Process(pid) for pid in servers[name][1]["pids"]]
                    before = cpu_seconds(*processes)
                    p50, p99 = clicks(pages[name])
                    cpu_ms = (cpu_seconds(*processes) - before) / 300 * 1000
                    print(round_, name, f"p50 {p50:.2f} p99 {p99:.2f} cpu/click {cpu_ms:.3f} ms", flush=True)
    finally:
        for process, _ in servers.values():
            assert process.stdin is not None
            process.stdin.close()
            process.wait(60)


if __name__ == "__main__":
    main()
