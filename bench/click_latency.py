"""Click-to-update latency in a real browser, the platform against the bare reference, in one run.

Measured inside the page, because that is what a user sees: performance.now() just before the
click is dispatched, until a MutationObserver sees the new value. After a warm-up, N clicks back to
back, then N with 250 ms pauses; then fresh browser contexts (empty cache, signed in) each time
from navigation to the first click's update, with the bytes the page loaded; and the server's CPU
time per click over the back-to-back clicks.

The fresh page's click goes as soon as the page can take it: its socket is open and its
DOMContentLoaded handlers have run (htmx wires the page there). Until the platform opened its socket
from the page's head, the socket's open came last on every page, and the click waited for it alone.
Usage: python bench/click_latency.py [--clicks 300] [--fresh 5] [--json out.json] [--stock]
"""

from __future__ import annotations

import json
import statistics
import sys
from typing import Any

import psutil
from common import (
    APP_PATH,
    CHROMIUM_ARGS,
    PASSWORD,
    USERNAME,
    PlainChannels,
    Platform,
    Reference,
    arguments,
    cpu_seconds,
    emit,
    machine,
    percentiles,
)
from playwright.sync_api import Browser, sync_playwright

from dashboards.config.daphne_server import configured_event_loop

FIRST_UPDATE = "bench:first-update"  # what a fresh page logs when its first click's update is seen
TIMEOUT_MS = 3000  # a click not answered by then counts as 3 s, so a lost click never hangs the run

# Runs in every page before its own scripts: notes when a WebSocket opens and, when asked to, clicks
# as soon as the page is ready (socket open, DOMContentLoaded handlers done) and records the time
# from navigation to the update and the bytes loaded.
INIT_SCRIPT = """(() => {
  const config = %s;
  const Native = window.WebSocket;
  let createdAt = 0, openAt = 0, readyAt = 0, clicked = false;
  // After every DOMContentLoaded listener: the bench's own runs first, the page's after it.
  document.addEventListener("DOMContentLoaded", () => setTimeout(() => {
    readyAt = performance.now();
    maybeClick();
  }, 0));
  function maybeClick() {
    if (!config.autoClick || clicked || !openAt || !readyAt) return;
    clicked = true;
    firstClick();
  }
  function firstClick() {
    const before = document.querySelector(config.value).textContent;
    const observer = new MutationObserver(() => {
      const node = document.querySelector(config.value);
      if (!node || node.textContent === before) return;
      observer.disconnect();
      const ms = performance.now();
      const [navigation] = performance.getEntriesByType("navigation");
      const entries = [navigation, ...performance.getEntriesByType("resource")];
      window.__benchFirst = {
        ms, bytes: entries.reduce((sum, e) => sum + (e.transferSize || 0), 0), requests: entries.length,
        // where the time went, each from navigation start
        steps: {html_first_byte: navigation.responseStart, html_last_byte: navigation.responseEnd,
                dom_content_loaded: navigation.domContentLoadedEventEnd, socket_created: createdAt,
                socket_open: openAt, page_ready: readyAt, clicked: clickedAt, updated: ms},
        resources: entries.slice(1).map((e) => ({name: e.name.split("/").pop(), start: e.startTime,
                                                 first_byte: e.responseStart, end: e.responseEnd,
                                                 bytes: e.transferSize})),
      };
      console.debug(config.doneMessage);
    });
    observer.observe(document.body, {subtree: true, childList: true, characterData: true});
    const clickedAt = performance.now();
    document.querySelector(config.click).click();
  }
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    if (!String(args[0]).includes(config.socket)) return socket;  // another socket of the page
    if (!createdAt) createdAt = performance.now();
    socket.addEventListener("open", () => {
      if (window.__benchSocketOpen) return;
      window.__benchSocketOpen = true;
      openAt = performance.now();
      setTimeout(maybeClick, 0);
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();"""

MEASURE = """async ({click, value, n, pause, timeout}) => {
  const samples = [];
  let late = 0;
  for (let i = 0; i < n; i++) {
    const before = document.querySelector(value).textContent;
    const done = new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        const node = document.querySelector(value);
        if (node && node.textContent !== before) { observer.disconnect(); resolve(performance.now()); }
      });
      observer.observe(document.body, {subtree: true, childList: true, characterData: true});
    });
    const t0 = performance.now();
    document.querySelector(click).click();
    const at = await Promise.race([done, new Promise((r) => setTimeout(() => r(null), timeout))]);
    if (at === null) { late++; samples.push(timeout); } else { samples.push(at - t0); }
    if (pause) await new Promise((r) => setTimeout(r, pause));
  }
  return {samples, late};
}"""


def measure(page: Any, click: str, value: str, n: int, pause: int) -> dict[str, Any]:
    result = page.evaluate(
        MEASURE, {"click": click, "value": value, "n": n, "pause": pause, "timeout": TIMEOUT_MS}
    )
    return {**percentiles(result["samples"]), "late": result["late"]}


def run_case(
    browser: Browser,
    *,
    url: str,
    path: str,
    click: str,
    value: str,
    clicks: int,
    fresh: int,
    server: list[psutil.Process],
    socket: str = "/ws",
    storage: Any = None,
) -> dict[str, Any]:
    """One server's figures: warm tab (back to back, paused, CPU), then `fresh` new contexts."""
    config = {
        "click": click, "value": value, "socket": socket, "autoClick": False, "doneMessage": FIRST_UPDATE,
    }  # fmt: skip
    context = browser.new_context(base_url=url, storage_state=storage)
    context.add_init_script(INIT_SCRIPT % json.dumps(config))
    page = context.new_page()
    page.goto(path)
    page.wait_for_function("() => window.__benchSocketOpen === true", timeout=30_000, polling=50)
    measure(page, click, value, 50, 0)  # warm-up: caches, JIT, the server's first-use costs
    cpu_before = cpu_seconds(*server)
    main_before = cpu_seconds(server[0])
    back_to_back = measure(page, click, value, clicks, 0)
    cpu_ms = (cpu_seconds(*server) - cpu_before) / clicks * 1000
    main_ms = (cpu_seconds(server[0]) - main_before) / clicks * 1000
    paused = measure(page, click, value, clicks, 250)
    context.close()
    firsts = []
    for _ in range(fresh):
        context = browser.new_context(base_url=url, storage_state=storage)
        context.add_init_script(INIT_SCRIPT % json.dumps({**config, "autoClick": True}))
        page = context.new_page()
        # Waits on the page's console, not by polling: a poll would run Playwright's own script in
        # the page while it loads, on the main thread the page needs (10 to 40 ms of it, measured).
        with page.expect_console_message(lambda message: message.text == FIRST_UPDATE, timeout=30_000):
            page.goto(path, wait_until="commit")
        firsts.append(page.evaluate("() => window.__benchFirst"))
        context.close()
    times = [first["ms"] for first in firsts]
    median_run = sorted(firsts, key=lambda first: first["ms"])[len(firsts) // 2]
    return {
        "back_to_back_ms": back_to_back,
        "paused_ms": paused,
        "fresh_page_to_first_update_ms": {
            "median": round(statistics.median(times), 1),
            "min": round(min(times), 1),
            "all": [round(t, 1) for t in times],
        },
        "fresh_page_steps_median_ms": {
            step: round(statistics.median(first["steps"][step] for first in firsts), 1)
            for step in firsts[0]["steps"]
        },
        "fresh_page_resources_of_median_run_ms": [
            {key: round(value, 1) if isinstance(value, float) else value for key, value in entry.items()}
            for entry in median_run["resources"]
        ],
        "fresh_page_bytes": max(first["bytes"] for first in firsts),
        "fresh_page_requests": max(first["requests"] for first in firsts),
        "server_cpu_per_click_ms": round(cpu_ms, 3),
        "main_process_cpu_per_click_ms": round(main_ms, 3),
    }


def sign_in_storage(browser: Browser, url: str) -> Any:
    """Sign in through the real login form once; every context then starts with that cookie."""
    context = browser.new_context(base_url=url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/t/acme/")
    storage = context.storage_state()
    context.close()
    return storage


def main() -> None:
    parser = arguments(__doc__ or "")
    parser.add_argument("--clicks", type=int, default=300)
    parser.add_argument("--fresh", type=int, default=9, help="fresh contexts for the first-update figure")
    options = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "click_latency",
        "machine": machine(),
        "stock": options.stock,
        "platform_event_loop": configured_event_loop(),
    }
    with (
        Reference() as reference,
        PlainChannels() as plain,
        Platform(stock=options.stock) as platform,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            print("reference...", file=sys.stderr, flush=True)
            results["reference"] = run_case(
                browser,
                url=reference.url,
                path="/",
                click="#add",
                value="#count",
                clicks=options.clicks,
                fresh=options.fresh,
                server=[reference.psutil],
            )
            print("plain Channels...", file=sys.stderr, flush=True)
            results["plain_channels"] = run_case(
                browser,
                url=plain.url,
                path="/",
                click="#add",
                value="#count",
                clicks=options.clicks,
                fresh=options.fresh,
                server=[plain.psutil],
            )
            print("platform...", file=sys.stderr, flush=True)
            results["platform"] = run_case(
                browser,
                url=platform.url,
                path=APP_PATH,
                click="#add button",
                value="#count .dc-metric-value",
                clicks=options.clicks,
                fresh=options.fresh,
                server=[platform.daphne, platform.redis_process],
                socket="/ws/t/",
                storage=sign_in_storage(browser, platform.url),
            )
        finally:
            browser.close()
        results["platform"]["consumer_crashes_in_log"] = platform.count_in_log("Exception inside application")
    emit(results, options.json)


if __name__ == "__main__":
    main()
