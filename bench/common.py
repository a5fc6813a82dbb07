"""Shared by the benchmarks: the platform (production settings) and the reference server, each in
processes of their own on 127.0.0.1, and the few helpers every script needs (sign-in, a tab's
socket URL, percentiles, CPU and memory readings)."""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboards.ops.embedded_redis import EmbeddedRedis  # noqa: E402
from tests.support import RunningPlatform, free_port, wait_for_http  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERNAME, PASSWORD = "avery", "demo-password"
BENCH_TABS_PER_USER = 5000  # above the most sessions any script opens (ws_roundtrip: 1,000)
TENANT, APP = "acme", "counter"
APP_PATH = f"/t/{TENANT}/apps/{APP}/"


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def stop_process(process: subprocess.Popen, stop_signal: int = signal.SIGTERM, timeout: float = 10) -> None:  # type: ignore[type-arg]
    """Ask a process we started to stop; kill it if it has not within the timeout."""
    if process.poll() is not None:
        return
    process.send_signal(stop_signal)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def stop_cleanly_on_signals() -> None:
    """SIGTERM, and SIGINT even when started in the background (where it is ignored), unwind the
    script, so every `with` block stops its servers instead of leaving them running."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


def raise_fd_limit() -> int:
    """A thousand sockets need more descriptors than some shells allow; children inherit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Platform:
    """The whole platform as `make run` starts it (one Daphne, the jobs worker, Redis), but with
    production settings and a private var/. Its embedded Redis is started here and given in
    REDIS_URL, unless ``stock``: then the platform starts it itself, as `make run` does.

    Both run the settings as they are. REDIS_URL once carried ``&socket_timeout=30`` as a
    workaround for the channel layer's socket timeout; the settings fix that now (see
    docs/performance.md), and a socket_timeout in the URL would override the fix."""

    def __init__(self, *, stock: bool = False) -> None:
        self.stock = stock
        self.root = Path(tempfile.mkdtemp(prefix="bench-"))
        var_dir = self.root / "var"
        self.redis: EmbeddedRedis | None = None
        redis_url = None
        if not stock:
            self.redis = EmbeddedRedis(var_dir / "redis")
            redis_url = self.redis.url
        self.running = RunningPlatform(var_dir, redis_url)
        # Every session of a benchmark is the one demo user's: the open-tabs limit (50 per user
        # and process) is raised for them, and still checked on every connect.
        self.running.env["TABS_PER_USER"] = str(BENCH_TABS_PER_USER)
        self.url = self.running.url
        self.port = self.running.port

    def start(self) -> Platform:
        try:
            if self.redis is not None:
                self.redis.start(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.running.start()
        except BaseException:
            self.stop(keep_files=True)
            raise
        return self

    def _children(self) -> list[psutil.Process]:
        assert self.running.process is not None
        return psutil.Process(self.running.process.pid).children(recursive=True)

    @property
    def daphne(self) -> psutil.Process:
        for child in self._children():
            if "daphne" in " ".join(child.cmdline()):
                return child
        raise RuntimeError("no daphne process")

    @property
    def redis_process(self) -> psutil.Process:
        if self.redis is not None and self.redis.process is not None:
            return psutil.Process(self.redis.process.pid)
        for child in self._children():
            if "redis-server" in " ".join(child.cmdline()):
                return child
        raise RuntimeError("no redis process")

    def redis_used_memory(self) -> int:
        """Redis's own count of the bytes it holds (the snapshots and the channel layer's groups)."""
        client = redis.Redis(unix_socket_path=str(Path(self.running.env["VAR_DIR"]) / "redis" / "redis.sock"))
        try:
            return int(client.info("memory")["used_memory"])
        finally:
            client.close()

    def log_text(self) -> str:
        return self.running.log_path.read_text(errors="replace") if self.running.log_path.exists() else ""

    def count_in_log(self, needle: str) -> int:
        return self.log_text().count(needle)

    def stop(self, *, keep_files: bool = False) -> None:
        """Every process this platform started ends here: Daphne and the worker, then our Redis."""
        try:
            self.running.stop()
            if os.environ.get("BENCH_SERVER_LOG"):  # a copy of the server's log, for diagnosis
                shutil.copyfile(self.running.log_path, os.environ["BENCH_SERVER_LOG"])
        finally:
            if self.redis is not None:
                self.redis.stop()
            if keep_files:
                print(f"platform files kept in {self.root}", file=sys.stderr)
            else:
                shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Platform:
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.stop(keep_files=exc_type is not None)


DAPHNE_LIMITS = ["--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536"]


class Reference:
    """The floor: bench/reference.py in its own process (plain page, bare WebSocket counter)."""

    def __init__(self, *, compression: bool = True) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.compression = compression
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        command = [sys.executable, str(ROOT / "bench" / "reference.py"), str(self.port)]
        return command + ([] if self.compression else ["--no-compression"])

    def environment(self) -> dict[str, str] | None:
        """The server's environment; None: this script's."""
        return None

    def start(self) -> Reference:
        self.process = subprocess.Popen(self.command(), cwd=ROOT / "bench", env=self.environment())
        try:
            wait_for_http(self.url + "/", timeout=15)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def psutil(self) -> psutil.Process:
        assert self.process is not None
        return psutil.Process(self.process.pid)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def __enter__(self) -> Reference:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PlainChannels(Reference):
    """The second yardstick: bench/plain_channels.py, a plain Channels consumer on one Daphne."""

    def command(self) -> list[str]:
        bind = ["--bind", "127.0.0.1", "--port", str(self.port)]
        return [sys.executable, "-m", "daphne", *bind, *DAPHNE_LIMITS, "plain_channels:application"]


class DaphneServer(Reference):
    """An ASGI application of bench/ on one Daphne, started as the platform starts its own: through
    the launcher on ``loop`` (uvloop by default), or as stock ``python -m daphne`` (asyncio)."""

    def __init__(self, application: str, *, loop: str | None = None) -> None:
        super().__init__()
        self.application = application
        self.loop = loop

    def command(self) -> list[str]:
        launcher = ["-m", "daphne"] if self.loop is None else ["-m", "dashboards.config.daphne_server"]
        bind = ["--bind", "127.0.0.1", "--port", str(self.port)]
        return [sys.executable, *launcher, *bind, *DAPHNE_LIMITS, self.application]

    def environment(self) -> dict[str, str]:
        environment = {**os.environ, "PYTHONPATH": str(ROOT)}
        if self.loop is not None:
            environment["DASHBOARDS_EVENT_LOOP"] = self.loop
        return environment


# --- signing in and opening tabs over plain HTTP (what a browser does before its socket) ---


def sign_in(base_url: str, username: str = USERNAME, password: str = PASSWORD) -> str:
    """Post Django's login form (with its CSRF token); return the Cookie header of the signed-in browser."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar)
    )
    login_url = base_url + "/accounts/login/"
    with opener.open(login_url, timeout=30) as response:
        form = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    if match is None:
        raise RuntimeError("no CSRF token in the login form")
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1), "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(login_url, data=body, headers={"Referer": login_url, "Origin": base_url})
    with opener.open(request, timeout=30):
        pass
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"signing in as {username} failed")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only, never a proxy


@dataclass(frozen=True)
class Tab:
    """What a new browser tab learns from the app page: its socket URL and the button's message."""

    ws_url: str
    click: str


def _attribute(markup: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', markup)
    if match is None:
        raise RuntimeError(f"no {name} in the app page")
    return html.unescape(match.group(1))


def parse_tab(base_url: str, page: str) -> Tab:
    """Build the socket URL as dashboards.js does and the message the "Add one" button sends."""
    query = urllib.parse.urlencode(
        {
            "sid": _attribute(page, "data-session-id"),
            "release": _attribute(page, "data-release"),
            "fresh": "1",
        }
    )
    ws_url = base_url.replace("http://", "ws://") + _attribute(page, "data-socket-path") + "?" + query
    button = re.search(r"<button[^>]*\bws-send\b[^>]*data-target=\"add\"[^>]*>", page)
    if button is None:
        raise RuntimeError("no 'add' button in the app page")
    tag = button.group(0)
    message = {
        "event": _attribute(tag, "data-event"),
        "payload": None,
        "handler": _attribute(tag, "data-handler"),
        "target": _attribute(tag, "data-target"),
    }
    return Tab(ws_url=ws_url, click=json.dumps(message))


def open_tab(base_url: str, cookie: str) -> Tab:
    """GET the app page (a new tab: the server saves a fresh session and names it in the page)."""
    request = urllib.request.Request(base_url + APP_PATH, headers={"Cookie": cookie})
    with _DIRECT.open(request, timeout=60) as response:
        return parse_tab(base_url, response.read().decode())


# --- figures ---


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 by nearest rank, rounded to 0.01 ms; an empty list gives zeros, never an error."""
    if not samples:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "mean": 0.0, "max": 0.0, "n": 0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "mean": round(statistics.fmean(ordered), 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


def cpu_seconds(*processes: psutil.Process) -> float:
    """CPU time of the processes' threads, to the nanosecond where Linux tells it (schedstat), since
    the usual counters tick every 10 ms: too coarse for a fraction of a millisecond per click."""
    total = 0.0
    for process in processes:
        tasks = Path(f"/proc/{process.pid}/task")
        if not Path("/proc/self/schedstat").exists():
            times = process.cpu_times()
            total += times.user + times.system
            continue
        for task in tasks.iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0]) / 1e9
            except OSError:  # the thread ended meanwhile
                continue
    return total


def medians(runs: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each figure's median over the rounds, per server (or per loop)."""
    return {
        name: {figure: round(statistics.median(run[figure] for run in done), 3) for figure in done[0]}
        for name, done in runs.items()
    }


def rss_bytes(process: psutil.Process) -> int:
    return process.memory_info().rss


def wait_quiet(process: psutil.Process, *, seconds: float = 0.5, timeout: float = 15.0) -> None:
    """Wait until the process uses under 5 % of a core, so readings are not taken mid-burst."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.cpu_percent(interval=seconds) < 5.0:
            return


def cpu_pressure_total() -> float:
    """Seconds some task waited for a CPU since boot (Linux PSI); 0 where the kernel has none."""
    try:
        for line in Path("/proc/pressure/cpu").read_text().splitlines():
            if line.startswith("some"):
                return int(line.rsplit("total=", 1)[1]) / 1e6
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": psutil.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": sys.version.split()[0],
        "load_average": [round(x, 2) for x in psutil.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def commit() -> str:
    """The commit measured, with a mark when the tree had uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], check=False, capture_output=True,
                              text=True, timeout=10).stdout.strip()  # fmt: skip

    try:
        head, dirty = (
            git("rev-parse", "--short", "HEAD"),
            git("status", "--porcelain", "--untracked-files=no"),
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + (" with uncommitted changes" if dirty else "")


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every script shares (where to write the JSON, the stock configuration); also
    makes signals stop the script cleanly, since every script calls this first."""
    stop_cleanly_on_signals()
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--stock",
        action="store_true",
        help="let the platform start its embedded Redis itself, as `make run` does (this once meant:"
        " without the Redis socket-timeout workaround, which the settings no longer need)",
    )
    return parser


def emit(results: dict[str, Any], path: Path | None) -> None:
    text = json.dumps(results, indent=2)
    print(text)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
