"""Where a click's time goes inside the page, for the reference, plain Channels and the platform.

`click_latency.py` gives click → update; this splits it in three, each the median over the clicks:
the page's own work before the message leaves (click → `WebSocket.send`: htmx's trigger, reading
the element, building the message), the way there and back (send → the socket's message event:
the browser's network process, the server, the way back), and the page's work on the answer
(message → the MutationObserver seeing the new value: parsing the fragment, the swap). Back to
back and with 250 ms pauses, in alternating rounds.
Usage: python bench/click_phases.py [--clicks 150] [--rounds 2] [--json out.json]
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

from click_latency import sign_in_storage
from common import (
    APP_PATH,
    CHROMIUM_ARGS,
    PlainChannels,
    Platform,
    Reference,
    arguments,
    emit,
    machine,
)
from playwright.sync_api import Browser, sync_playwright

PHASES = ("click_to_send", "send_to_message", "message_to_update", "click_to_update")
WARM_UP_CLICKS = 50
PAUSE_MS = 250

# Before the page's scripts: note when any socket of the page sends and when a message arrives
# (this listener is added first, so it runs before htmx's).
INIT_SCRIPT = """(() => {
  const Native = window.WebSocket;
  window.__phases = {sent: 0, received: 0};
  const send = Native.prototype.send;
  Native.prototype.send = function (data) {
    window.__phases.sent = performance.now();
    return send.call(this, data);
  };
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("message", () => { window.__phases.received = performance.now(); });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();"""

MEASURE = """async ({click, value, n, pause}) => {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const before = document.querySelector(value).textContent;
    const seen = new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        const node = document.querySelector(value);
        if (node && node.textContent !== before) { observer.disconnect(); resolve(performance.now()); }
      });
      observer.observe(document.body, {subtree: true, childList: true, characterData: true});
    });
    const clicked = performance.now();
    document.querySelector(click).click();
    const updated = await seen;
    const {sent, received} = window.__phases;
    rows.push([sent - clicked, received - sent, updated - received, updated - clicked]);
    if (pause) await new Promise((r) => setTimeout(r, pause));
  }
  return rows;
}"""


def measure_server(
    browser: Browser, *, url: str, path: str, click: str, value: str, clicks: int, storage: Any = None
) -> dict[str, dict[str, float]]:
    context = browser.new_context(base_url=url, storage_state=storage)
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    page.goto(path)
    page.wait_for_function("() => window.__phases !== undefined", timeout=30_000)
    page.wait_for_timeout(1500)  # the socket open and the page settled
    arguments = {"click": click, "value": value}
    page.evaluate(MEASURE, {**arguments, "n": WARM_UP_CLICKS, "pause": 0})
    result = {}
    for name, pause in (("back_to_back", 0), ("paused", PAUSE_MS)):
        rows = page.evaluate(MEASURE, {**arguments, "n": clicks, "pause": pause})
        result[name] = {
            phase: round(statistics.median(row[i] for row in rows), 3) for i, phase in enumerate(PHASES)
        }
    context.close()
    return result


def main() -> None:
    parser = arguments(__doc__ or "")
    parser.add_argument("--clicks", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    rounds: list[dict[str, Any]] = []
    with (
        Reference() as reference,
        PlainChannels() as plain,
        Platform() as platform,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            storage = sign_in_storage(browser, platform.url)
            cases = {
                "reference": {"url": reference.url, "path": "/", "click": "#add", "value": "#count"},
                "plain_channels": {"url": plain.url, "path": "/", "click": "#add", "value": "#count"},
                "platform": {
                    "url": platform.url,
                    "path": APP_PATH,
                    "click": "#add button",
                    "value": "#count .dc-metric-value",
                    "storage": storage,
                },
            }
            for number in range(options.rounds):
                measured = {}
                for name, case in cases.items():
                    measured[name] = measure_server(browser, clicks=options.clicks, **case)
                    print(f"round {number + 1}, {name}: {measured[name]}", file=sys.stderr, flush=True)
                rounds.append(measured)
        finally:
            browser.close()
    medians = {
        server: {
            load: {
                phase: round(statistics.median(r[server][load][phase] for r in rounds), 3) for phase in PHASES
            }
            for load in ("back_to_back", "paused")
        }
        for server in rounds[0]
    }
    emit(
        {"benchmark": "click_phases", "machine": machine(), "medians_ms": medians, "rounds": rounds},
        options.json,
    )


if __name__ == "__main__":
    main()
