"""Events: one broadcast to 1,000 open tabs, time until the last tab has its update, on one and on
two Daphne processes; sustained events/s; the issue's reference case (a scenario created by one
user shows in another user's scenario list); against two floors measured in the same run.

The platform runs as the other benchmarks run it (production settings, one Daphne, the jobs
worker, the embedded Redis, SQLite; the settings as they are) and this script deploys
`bench/apps/eventbench.py`: every tab follows the custom event "tick" (``broadcast_on_event``, a
plain function that sets ``state.tick``) and shows it with ``{% text tick %}``. Each tab is opened
as a browser does (GET the app page: a new server-side session; then its socket), all as the demo
user avery. The events are emitted from this process with ``event_emit`` (the service app code's
``emit_event`` calls: a log row, then on commit one channel-layer message to the tenant's group),
in a thread of its own with Django set up against the platform's database and Redis. A tab's
latency is from just before ``event_emit`` until its socket received a frame holding the value.

Floors, with the same client and the same sockets count:
- reference: a bare `websockets` server that broadcasts a frame to every socket when its control
  socket asks (bench/reference_broadcast.py): the client's and the kernel's share.
- plain Channels: a plain consumer per socket on one Daphne, all in one channels-redis group, the
  sender's ``group_send`` from this process as the platform's delivery does it
  (bench/plain_broadcast.py): what Daphne, Channels and channels-redis cost.

The client is one asyncio process on the same two cores: its CPU is reported with the figures.
Usage: python bench/events_fanout.py [--sessions 1000] [--events 20] [--rates 0.5 1 2 4]
       [--rate-seconds 10] [--no-two] [--no-floors] [--no-browser] [--profile FILE] [--json FILE]
"""

from __future__ import annotations

import asyncio
import collections
import html
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
from common import (
    CHROMIUM_ARGS,
    ROOT,
    Platform,
    arguments,
    commit,
    cpu_pressure_total,
    cpu_seconds,
    emit,
    machine,
    percentiles,
    raise_fd_limit,
    sign_in,
    stop_process,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from tests.support import free_port, wait_for_http

APP_SOURCE = ROOT / "bench" / "apps" / "eventbench.py"
TENANT, APP = "acme", "eventbench"
APP_PATH = f"/t/{TENANT}/apps/{APP}/"
PLANNER_PATH = f"/t/{TENANT}/apps/planner/"
VALUE = re.compile(r"v(\d+)x")
PAGE_CONCURRENCY = 4
CONNECT_CONCURRENCY = 20
retries: list[str] = []  # connects tried again (reported)
EVENT_TIMEOUT = 5.0  # a tab without the update this long after the emit counts as missed
WARM_UP_EVENTS = 3
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- the platform side: Django in this process, a second Daphne ---


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dashboards.config.settings"
    import django

    django.setup()


class SecondDaphne:
    """Another Daphne process of the same platform (same database, same Redis), as production runs
    several; optionally under cProfile (its main thread: the event loop)."""

    def __init__(self, env: dict[str, str], log: Path, profile: Path | None = None) -> None:
        from dashboards.ops.management.commands.run_platform import daphne_command

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = daphne_command("127.0.0.1", self.port)
        if profile is not None:
            command = [command[0], "-m", "cProfile", "-o", str(profile), *command[1:]]
        self.log = log.open("ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def __enter__(self) -> SecondDaphne:
        try:
            wait_for_http(self.url + "/healthz", timeout=60)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        # SIGINT: Daphne stops its reactor, and cProfile (if on) then writes its stats
        stop_process(self.process, signal.SIGINT, timeout=60)
        self.log.close()

    @property
    def psutil(self) -> psutil.Process:
        return psutil.Process(self.process.pid)


def open_tab(base_url: str, cookie: str, path: str, socket_base: str) -> str:
    """GET the app page (a new session); return the socket URL dashboards.js would open, on socket_base."""
    request = urllib.request.Request(base_url + path, headers={"Cookie": cookie})
    with _DIRECT.open(request, timeout=60) as response:
        page = response.read().decode()

    def attribute(name: str) -> str:
        match = re.search(rf'{name}="([^"]*)"', page)
        if match is None:
            raise RuntimeError(f"no {name} in the app page")
        return html.unescape(match.group(1))

    query = urllib.parse.urlencode(
        {"sid": attribute("data-session-id"), "release": attribute("data-release"), "fresh": "1"}
    )
    return socket_base.replace("http://", "ws://") + attribute("data-socket-path") + "?" + query


async def open_tabs(base_url: str, cookie: str, path: str, socket_bases: list[str], n: int) -> list[str]:
    """n tabs, the i-th on socket_bases[i % len]: page GETs a few at a time, as browsers would."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(PAGE_CONCURRENCY) as pool:
        return list(
            await asyncio.gather(
                *(
                    loop.run_in_executor(
                        pool, open_tab, base_url, cookie, path, socket_bases[i % len(socket_bases)]
                    )
                    for i in range(n)
                )
            )
        )


async def connect_all(urls: list[str], headers: dict[str, str]) -> list[ClientConnection]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(url: str) -> ClientConnection:
        origin = "http://" + urllib.parse.urlsplit(url).netloc
        for attempt in range(3):  # Daphne drops a handshake its application has not accepted within 5 s
            try:
                async with gate:
                    return await connect(url, origin=origin, additional_headers=headers, proxy=None,  # type: ignore[arg-type]
                                         open_timeout=120, ping_interval=None, close_timeout=5,
                                         max_queue=None)  # fmt: skip
            except (OSError, InvalidMessage, InvalidStatus):
                if attempt == 2:
                    raise
                retries.append(url)
                await asyncio.sleep(1.0)
        raise AssertionError

    return list(await asyncio.gather(*(one(url) for url in urls)))


# --- the client: every socket's arrivals ---


class Fleet:
    """N open sockets; when each received each value (perf_counter), from a reader task per socket."""

    def __init__(self, connections: list[ClientConnection]) -> None:
        self.connections = connections
        self.arrivals: dict[int, list[float]] = collections.defaultdict(list)
        self.frames = 0
        self.closed = 0
        self.got = [0] * len(connections)  # values each socket received
        self.tasks = [asyncio.create_task(self._read(i, c)) for i, c in enumerate(connections)]

    async def _read(self, index: int, connection: ClientConnection) -> None:
        try:
            async for message in connection:
                now = time.perf_counter()
                self.frames += 1
                for match in VALUE.finditer(str(message)):
                    self.arrivals[int(match.group(1))].append(now)
                    self.got[index] += 1
        except ConnectionClosed:
            self.closed += 1

    async def wait_for(self, value: int, count: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while len(self.arrivals[value]) < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(c.close() for c in self.connections), return_exceptions=True)
        await asyncio.gather(*self.tasks, return_exceptions=True)


Sender = Callable[[int], Awaitable[float]]  # emits value i; returns perf_counter just before the emit


class Meter:
    """CPU of the server's processes (per thread name, for the platform) and of this client."""

    def __init__(self, processes: list[psutil.Process]) -> None:
        self.processes = processes

    def __enter__(self) -> Meter:
        self.started = time.perf_counter()
        self.server = cpu_seconds(*self.processes)
        self.threads = thread_cpu(self.processes)
        self.client = cpu_seconds(psutil.Process())
        self.pressure = cpu_pressure_total()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.started
        self.server = cpu_seconds(*self.processes) - self.server
        after = thread_cpu(self.processes)
        self.threads = {k: round(v - self.threads.get(k, 0.0), 4) for k, v in after.items()}
        self.client = cpu_seconds(psutil.Process()) - self.client
        self.pressure = cpu_pressure_total() - self.pressure

    def figures(self, events: int) -> dict[str, Any]:
        return {
            "seconds": round(self.elapsed, 2),
            "server_cpu_per_event_ms": round(self.server / max(events, 1) * 1000, 2),
            "server_cpu_busy": round(self.server / self.elapsed, 2),
            "client_cpu_busy": round(self.client / self.elapsed, 2),
            "cpu_wait_share": round(self.pressure / self.elapsed, 3),  # PSI "some": a task waited for a CPU
            "server_cpu_seconds_by_thread": {k: v for k, v in sorted(self.threads.items()) if v >= 0.005},
        }


def thread_cpu(processes: list[psutil.Process]) -> dict[str, float]:
    """CPU seconds per (process, thread name), from schedstat."""
    totals: dict[str, float] = collections.defaultdict(float)
    for index, process in enumerate(processes):
        for task in Path(f"/proc/{process.pid}/task").iterdir():
            try:
                name = "main thread" if int(task.name) == process.pid else "other threads"
                totals[f"{index}:{process.name()}:{name}"] += (
                    int((task / "schedstat").read_text().split()[0]) / 1e9
                )
            except (OSError, psutil.Error):
                continue
    return totals


_values = iter(range(1, 10**9))


async def one_at_a_time(fleet: Fleet, send: Sender, *, events: int, gap: float) -> dict[str, Any]:
    """Events one after the other (each waits for every tab, then a pause): per event, the last tab."""
    n = len(fleet.connections)
    last, last_delivered, first, every, missed, emit_ms = [], [], [], [], 0, []
    for k in range(WARM_UP_EVENTS + events):
        value = next(_values)
        before = await send(value)
        emit_ms.append((time.perf_counter() - before) * 1000)
        await fleet.wait_for(value, n, EVENT_TIMEOUT)
        arrived = fleet.arrivals[value]
        if k >= WARM_UP_EVENTS:
            latencies = [(at - before) * 1000 for at in arrived]
            every += latencies
            first.append(min(latencies, default=EVENT_TIMEOUT * 1000))
            missed += n - len(arrived)
            last.append(max(latencies) if len(arrived) == n else EVENT_TIMEOUT * 1000)
            last_delivered.append(max(latencies, default=EVENT_TIMEOUT * 1000))
        await asyncio.sleep(gap)
    return {
        "last_tab_ms": percentiles(last),  # a tab that never got it counts as EVENT_TIMEOUT
        "last_tab_that_got_it_ms": percentiles(last_delivered),
        "every_tab_ms": percentiles(every),
        "first_tab_ms": percentiles(first),
        "each_event_first_last_ms": [[round(a, 1), round(b, 1)] for a, b in zip(first, last, strict=True)],
        "missed_updates": missed,
        "tabs_that_missed_any": sum(1 for got in fleet.got if got < WARM_UP_EVENTS + events),
        "send_call_ms": percentiles(emit_ms[WARM_UP_EVENTS:]),
    }


async def fanout(fleet: Fleet, send: Sender, processes: list[psutil.Process], *, events: int,
                 gap: float) -> dict[str, Any]:  # fmt: skip
    with Meter(processes) as meter:
        result = await one_at_a_time(fleet, send, events=events + 0, gap=gap)
    figures = meter.figures(events + WARM_UP_EVENTS)
    # the pauses between events are idle: CPU per event is over every event sent in the phase
    result.update(figures)
    result["sessions"] = len(fleet.connections)
    result["connect_retries_so_far"] = len(retries)
    result["frames_received"] = fleet.frames
    result["sockets_closed_by_server"] = fleet.closed
    return result


async def sustained(fleet: Fleet, send: Sender, processes: list[psutil.Process], *, rates: list[float],
                    seconds: float, drain: float) -> list[dict[str, Any]]:  # fmt: skip
    """Open loop: emit at each rate for `seconds`; stop raising it once a rate fails (a tab missed
    an update within `drain` s of the last emit, or the p99 passed 1 s)."""
    n = len(fleet.connections)
    rows = []
    for rate in rates:
        sent: dict[int, float] = {}
        lateness = []
        start = time.perf_counter() + 0.2
        count = max(1, int(rate * seconds))
        with Meter(processes) as meter:
            for k in range(count):
                at = start + k / rate
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                lateness.append((time.perf_counter() - at) * 1000)
                value = next(_values)
                sent[value] = await send(value)
            deadline = time.perf_counter() + drain
            while time.perf_counter() < deadline and any(len(fleet.arrivals[v]) < n for v in sent):
                await asyncio.sleep(0.05)
        every = [(t - sent[v]) * 1000 for v in sent for t in fleet.arrivals[v]]
        last = [(max(fleet.arrivals[v]) - sent[v]) * 1000 for v in sent if len(fleet.arrivals[v]) == n]
        delivered = sum(min(len(fleet.arrivals[v]), n) for v in sent)
        row = {
            "rate_per_second": rate,
            "events": count,
            "updates_expected": count * n,
            "delivered_fraction": round(delivered / (count * n), 4),
            "every_tab_ms": percentiles(every),
            "last_tab_ms": percentiles(last),
            "sender_lateness_ms": percentiles(lateness),
            **meter.figures(count),
        }
        row["kept_up"] = row["delivered_fraction"] == 1.0 and row["every_tab_ms"]["p99"] <= 1000
        rows.append(row)
        print(f"  {rate}/s: delivered {row['delivered_fraction']:.3f}, p99 {row['every_tab_ms']['p99']} ms",
              file=sys.stderr, flush=True)  # fmt: skip
        if not row["kept_up"]:
            break
        await asyncio.sleep(2.0)
    return rows


# --- the platform's emit, and the floors' ---


def platform_sender(tenant_id: int, app_id: int) -> tuple[Sender, ThreadPoolExecutor]:
    from dashboards.events.services import event_emit

    pool = ThreadPoolExecutor(1, thread_name_prefix="emit")

    def emit_one(value: int) -> float:
        before = time.perf_counter()
        event_emit(tenant_id=tenant_id, app_id=app_id, entity_type="custom", entity_id="tick",
                   operation="update", attribute_value=f"v{value}x")  # fmt: skip
        return before

    async def send(value: int) -> float:
        return await asyncio.get_running_loop().run_in_executor(pool, emit_one, value)

    return send, pool


def plain_channels_sender(redis_url: str) -> tuple[Sender, ThreadPoolExecutor]:
    from asgiref.sync import async_to_sync
    from channels_redis.core import RedisChannelLayer
    from plain_broadcast import GROUP, PREFIX

    layer = RedisChannelLayer(hosts=[redis_url], prefix=PREFIX)
    pool = ThreadPoolExecutor(1, thread_name_prefix="emit-plain")

    def send_one(value: int) -> float:
        before = time.perf_counter()
        async_to_sync(layer.group_send)(GROUP, {"type": "tick.send", "value": f"v{value}x"})
        return before

    async def send(value: int) -> float:
        return await asyncio.get_running_loop().run_in_executor(pool, send_one, value)

    return send, pool


class Server:
    """A floor's process: bench/reference_broadcast.py, or Daphne serving bench/plain_broadcast.py."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([*command, str(self.port)] if env is None else
                                        [*command[:-1], "--port", str(self.port), command[-1]],
                                        cwd=ROOT / "bench", env=env)  # fmt: skip

    def __enter__(self) -> Server:
        try:
            wait_for_http(self.url + "/", timeout=30)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        stop_process(self.process)


async def floor_reference(n: int, events: int, gap: float) -> dict[str, Any]:
    with Server([sys.executable, str(ROOT / "bench" / "reference_broadcast.py")]) as server:
        base = server.url.replace("http://", "ws://")
        fleet = Fleet(await connect_all([base + "/ws"] * n, {}))
        control = await connect(base + "/control", proxy=None, ping_interval=None)
        await asyncio.sleep(0.5)

        async def send(value: int) -> float:
            before = time.perf_counter()
            await control.send(f"v{value}x")
            return before

        try:
            return await fanout(fleet, send, [psutil.Process(server.process.pid)], events=events, gap=gap)
        finally:
            await control.close()
            await fleet.close()


async def floor_plain_channels(n: int, events: int, gap: float, redis_url: str,
                               redis_process: psutil.Process) -> dict[str, Any]:  # fmt: skip
    env = {**os.environ, "REDIS_URL": redis_url}
    command = [sys.executable, "-m", "daphne", "--bind", "127.0.0.1", "plain_broadcast:application"]
    with Server(command, env) as server:
        fleet = Fleet(await connect_all([server.url.replace("http://", "ws://") + "/ws"] * n, {}))
        send, pool = plain_channels_sender(redis_url)
        await asyncio.sleep(1.0)
        try:
            return await fanout(fleet, send, [psutil.Process(server.process.pid), redis_process],
                                events=events, gap=gap)  # fmt: skip
        finally:
            await fleet.close()
            pool.shutdown()


# --- the reference case: a scenario created by one user, in another user's scenario list ---


def planner_and_adam() -> tuple[Any, Any]:
    from django.contrib.auth import get_user_model

    from dashboards.hosting.models import App

    return App.objects.get(tenant__slug=TENANT, slug="planner"), get_user_model().objects.get(username="adam")


async def reference_case(
    platform: Platform, cookie: str, repeats: int, planner: Any, adam: Any
) -> dict[str, Any]:
    from dashboards.scenarios.services import scenario_create

    tab = (await open_tabs(platform.url, cookie, PLANNER_PATH, [platform.url], 1))[0]
    live = (platform.url.replace("http://", "ws://") + f"/ws/live/?tenant={TENANT}&topics=scenarios"
            f"&since={int(time.time())}")  # fmt: skip
    connections = await connect_all([tab, live], {"Cookie": cookie})
    texts: list[list[tuple[float, str]]] = [[], []]

    async def read(index: int, connection: ClientConnection) -> None:
        async for message in connection:
            texts[index].append((time.perf_counter(), str(message)))

    readers = [asyncio.create_task(read(i, c)) for i, c in enumerate(connections)]
    pool = ThreadPoolExecutor(1)

    def create(name: str) -> float:
        before = time.perf_counter()
        scenario_create(tenant_id=planner.tenant_id, app_id=planner.pk, name=name, owner_id=adam.pk)
        return before

    delays: list[list[float]] = [[], []]
    missed = [0, 0]
    try:
        await asyncio.sleep(1.0)
        for k in range(repeats + 2):
            name = f"bench{secrets.token_hex(4)}"
            before = await asyncio.get_running_loop().run_in_executor(pool, create, name)
            deadline = time.perf_counter() + 5
            seen: list[float | None] = [None, None]
            while None in seen and time.perf_counter() < deadline:
                for i in (0, 1):
                    if seen[i] is None:
                        seen[i] = next((at for at, text in texts[i] if name in text), None)
                await asyncio.sleep(0.002)
            if k >= 2:  # two warm-up creations
                for i in (0, 1):
                    if seen[i] is None:
                        missed[i] += 1
                    else:
                        delays[i].append((seen[i] - before) * 1000)
            await asyncio.sleep(0.3)
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
        pool.shutdown()
    return {
        "app_tab_scenario_list_ms": percentiles(delays[0]),
        "live_scenarios_page_socket_ms": percentiles(delays[1]),
        "missed": {"app_tab": missed[0], "live_page": missed[1]},
    }


WATCH = """(name) => {
  window.__shown = undefined;
  const check = () => document.body.textContent.includes(name);
  const observer = new MutationObserver(() => {
    if (check()) { observer.disconnect(); window.__shown = performance.timeOrigin + performance.now(); }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  setTimeout(() => { observer.disconnect(); if (window.__shown === undefined) window.__shown = null; }, 5000);
}"""


def reference_case_browser(platform: Platform, repeats: int, planner: Any, adam: Any) -> dict[str, Any]:
    """Chromium: avery has the Scenarios page (then the planner app) open; adam, another user,
    creates a scenario (the service the SDK's create_scenario calls, from this process). From just
    before the create (wall clock) until a MutationObserver in the page sees the name."""
    from playwright.sync_api import sync_playwright

    from dashboards.scenarios.services import scenario_create

    def create(name: str) -> float:
        before = time.time() * 1000
        scenario_create(tenant_id=planner.tenant_id, app_id=planner.pk, name=name, owner_id=adam.pk)
        return before

    result: dict[str, Any] = {}
    with sync_playwright() as playwright, ThreadPoolExecutor(1) as pool:  # Django off Playwright's loop
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=platform.url)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", "avery")
        page.fill("#id_password", "demo-password")
        page.click("button[type=submit]")
        page.wait_for_url(f"**/t/{TENANT}/")
        for label, path in (("scenarios_page", f"/t/{TENANT}/scenarios/"), ("planner_app_tab", PLANNER_PATH)):
            page.goto(path)
            page.wait_for_timeout(1500)  # the sockets open
            delays, missed = [], 0
            for k in range(repeats + 2):
                name = f"bench{secrets.token_hex(4)}"
                page.evaluate(WATCH, name)
                before = pool.submit(create, name).result()
                page.wait_for_function("() => window.__shown !== undefined", timeout=10_000)
                shown = page.evaluate("window.__shown")
                if k >= 2:
                    if shown is None:
                        missed += 1
                    else:
                        delays.append(shown - before)
                page.wait_for_timeout(300)
            result[label] = {"ms": percentiles(delays), "missed": missed}
        browser.close()
    return result


def error_kinds(text: str) -> dict[str, int]:
    """The last line of every traceback in a log, counted (what went wrong, in a few words)."""
    kinds: collections.Counter[str] = collections.Counter()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (
                lines[j].startswith(" ")
                or lines[j].startswith("Traceback")
                or lines[j].startswith("During")
                or not lines[j].strip()
            ):
                j += 1
            ours = [x.strip() for x in lines[i:j] if "/dashboards/" in x and x.strip().startswith("File")]
            where = ours[-1].split("/dashboards/", 1)[1] if ours else "?"
            if j < len(lines):
                kinds[f"{lines[j][:160]} (last platform frame: {where})"] += 1
    return dict(kinds.most_common(10))


# --- the run ---


def main() -> None:  # noqa: PLR0915 - one phase after the other, in order
    parser = arguments(__doc__ or "")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.5, help="pause after each event has reached every tab")
    parser.add_argument("--rates", type=float, nargs="*", default=[0.5, 1, 2, 4, 8])
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    parser.add_argument("--no-one", action="store_true", help="skip the one-process phase")
    parser.add_argument("--no-two", action="store_true", help="skip the two-process phase")
    parser.add_argument("--no-floors", action="store_true")
    parser.add_argument("--no-reference-case", action="store_true")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--profile", type=Path,
                        help="only: one process (a second Daphne) under cProfile, one-at-a-time events; "
                             "write the stats here")  # fmt: skip
    options = parser.parse_args()
    n = options.sessions
    results: dict[str, Any] = {
        "benchmark": "events_fanout",
        "machine": machine(),
        "stock": options.stock,
        "fd_limit": raise_fd_limit(),
        "commit": commit(),
        "client": "Python websockets, one asyncio process, same machine",
        "sessions": n,
    }
    with Platform(stock=options.stock) as platform:
        platform.running.manage("deploy_app", str(APP_SOURCE), "--tenant", TENANT, "--app", APP, "--create",
                                "--name", "Event bench")  # fmt: skip
        django_setup(platform.running.env)
        from dashboards.hosting.models import App

        app = App.objects.get(tenant__slug=TENANT, slug=APP)
        send, pool = platform_sender(app.tenant_id, app.pk)
        cookie = sign_in(platform.url)
        headers = {"Cookie": cookie}
        redis_process = platform.redis_process
        log = Path(platform.running.env["VAR_DIR"]) / "second-daphne.log"

        async def phase(
            socket_bases: list[str], processes: list[psutil.Process], *, rates: list[float]
        ) -> dict[str, Any]:
            urls = await open_tabs(platform.url, cookie, APP_PATH, socket_bases, n)
            fleet = Fleet(await connect_all(urls, headers))
            await asyncio.sleep(2.0)
            try:
                out = await fanout(fleet, send, processes, events=options.events, gap=options.gap)
                last = out["last_tab_ms"]
                print(f"  one at a time: last tab p50 {last['p50']} p99 {last['p99']} ms",
                      file=sys.stderr, flush=True)  # fmt: skip
                if rates:
                    await asyncio.sleep(2.0)
                    out["sustained"] = await sustained(fleet, send, processes, rates=rates,
                                                       seconds=options.rate_seconds, drain=15.0)  # fmt: skip
                return out
            finally:
                await fleet.close()
                await asyncio.sleep(2.0)

        errors_before = platform.count_in_log("Exception inside application")
        if options.profile:
            with SecondDaphne(platform.running.env, log, profile=options.profile.resolve()) as second:
                print("profiled process...", file=sys.stderr, flush=True)
                results["profiled_one_process"] = asyncio.run(
                    phase([second.url], [second.psutil, redis_process], rates=[])
                )
            results["profile"] = str(options.profile)
            emit(results, options.json)
            pool.shutdown()
            return
        if not options.no_one:
            print(f"one process, {n} tabs...", file=sys.stderr, flush=True)
            results["one_process"] = asyncio.run(
                phase([platform.url], [platform.daphne, redis_process], rates=options.rates)
            )
        if not options.no_two:
            with SecondDaphne(platform.running.env, log) as second:
                print(f"two processes, {n} tabs...", file=sys.stderr, flush=True)
                results["two_processes"] = asyncio.run(
                    phase(
                        [platform.url, second.url],
                        [platform.daphne, second.psutil, redis_process],
                        rates=options.rates,
                    )
                )
        results["server_errors_in_log"] = (
            platform.count_in_log("Exception inside application") - errors_before
        )
        second_log = log.read_text(errors="replace") if log.exists() else ""
        results["internal_errors_in_log"] = platform.count_in_log("internal error")
        results["server_error_kinds"] = error_kinds(platform.log_text() + second_log)
        pool.shutdown()
        if not options.no_reference_case:
            print("reference case...", file=sys.stderr, flush=True)
            results["reference_case_websocket"] = asyncio.run(
                reference_case(platform, cookie, 20, *planner_and_adam())
            )
            if not options.no_browser and Path("/usr/bin/chromium").exists():
                results["reference_case_browser"] = reference_case_browser(platform, 10, *planner_and_adam())
        if not options.no_floors:
            assert platform.redis is not None or options.stock
            redis_url = platform.running.env["REDIS_URL"] if "REDIS_URL" in platform.running.env else ""
            print("floor: plain Channels...", file=sys.stderr, flush=True)
            if redis_url:
                results["plain_channels"] = asyncio.run(
                    floor_plain_channels(n, options.events, options.gap, redis_url, redis_process)
                )
    if not options.no_floors:
        print("floor: reference...", file=sys.stderr, flush=True)
        results["reference"] = asyncio.run(floor_reference(n, options.events, options.gap))
    emit(results, options.json)


if __name__ == "__main__":
    main()
