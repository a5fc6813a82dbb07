"""Run every benchmark several times and print the table docs/performance.md holds.

Why repeated: the machine is shared (other people's test suites take CPU at random times), so
each benchmark runs at least twice, interleaved, after waiting (boundedly) for a quiet machine,
and each figure keeps its best run, for the platform and the reference independently. Every run's
JSON is kept, with the share of time tasks waited for a CPU while it ran (Linux PSI).

--commit REV runs the benchmarks against that commit exported to a temporary folder (with these
bench/ scripts copied in), so a colleague's uncommitted edits in the tree are never measured.
Usage: python bench/run_all.py [--repeat 2] [--commit HEAD] [--out bench/results] [--quick]
       python bench/run_all.py --summarise bench/results   (the table again, from the kept runs)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from common import ROOT, cpu_pressure_total, machine, stop_cleanly_on_signals

FULL = {
    "click_latency": ["--clicks", "300", "--fresh", "9"],
    "ws_roundtrip": ["--sessions", "1", "100", "1000", "--seconds", "10", "--paced-seconds", "20"],
    "session_memory": ["--counts", "50", "500"],
    "events_fanout": ["--sessions", "1000", "--events", "20", "--rates", "0.25", "0.5", "1", "2", "4"],
}
QUICK = {
    "click_latency": ["--clicks", "40", "--fresh", "3"],
    "ws_roundtrip": ["--sessions", "1", "100", "1000", "--seconds", "3", "--paced-seconds", "5"],
    "session_memory": ["--counts", "50"],
    "events_fanout": [
        "--sessions",
        "200",
        "--events",
        "5",
        "--rates",
        "1",
        "--rate-seconds",
        "3",
        "--no-browser",
    ],
}
RUN_TIMEOUT_SECONDS = 1200
QUIET_LOAD = 1.0  # one-minute load average under which the machine counts as quiet
QUIET_WAIT_SECONDS = 600


@dataclass(frozen=True)
class Figure:
    """One row of the table: where the value is, which way is better, and the target if any."""

    benchmark: str
    label: str
    get: Callable[[dict[str, Any], str], float]
    lower_is_better: bool = True
    target: str = ""  # "ratio<=2", "value<=50", "value>=990", or "" for information only
    reference_side: str = "reference"


def _click(key: str, stat: str) -> Callable[[dict[str, Any], str], float]:
    return lambda data, side: data[side][key][stat]


def _ws(sessions: str, phase: str, path: tuple[str, ...]) -> Callable[[dict[str, Any], str], float]:
    def get(data: dict[str, Any], side: str) -> float:
        value: Any = data[side][sessions][phase]
        for key in path:
            value = value[key]
        return float(value)

    return get


def _events(phase: str, key: str, stat: str) -> Callable[[dict[str, Any], str], float]:
    """events_fanout: the platform's figure is in `phase` (one_process, two_processes); the floors' on top."""
    return lambda data, side: data[phase if side == "platform" else side][key][stat]


FIGURES = [
    Figure("click_latency", "click → update p50, back to back (ms)", _click("back_to_back_ms", "p50"),
           target="ratio<=2"),
    Figure("click_latency", "click → update p99, back to back (ms)", _click("back_to_back_ms", "p99"),
           target="ratio<=2"),
    Figure("click_latency", "click → update p50, 250 ms pauses (ms)", _click("paused_ms", "p50"),
           target="ratio<=2"),
    Figure("click_latency", "click → update p99, 250 ms pauses (ms)", _click("paused_ms", "p99"),
           target="ratio<=2"),
    Figure("click_latency", "fresh page → first update, median (ms)",
           _click("fresh_page_to_first_update_ms", "median"), target="ratio<=1.5"),
    Figure("click_latency", "fresh page bytes (KB)", lambda d, s: round(d[s]["fresh_page_bytes"] / 1024, 1),
           target="value<=150"),
    Figure("click_latency", "server CPU per click (ms)", lambda d, s: d[s]["server_cpu_per_click_ms"],
           target="ratio<=2.5"),
    Figure("session_memory", "memory per open session, 50 sessions (KB)",
           lambda d, s: d[s]["50"]["kb_per_session"], target="ratio<=2"),
    Figure("session_memory", "the same against the reference without compression (KB)",
           lambda d, s: d[s]["50"]["kb_per_session"], reference_side="reference_without_compression"),
    Figure("session_memory", "memory per open session, 500 sessions (KB)",
           lambda d, s: d[s]["500"]["kb_per_session"]),
    Figure("ws_roundtrip", "1,000 sessions paced at 1,000 events/s: answered events/s",
           _ws("1000", "paced_1_per_session_per_second", ("events_per_second",)), lower_is_better=False,
           target="value>=990"),
    Figure("ws_roundtrip", "1,000 sessions paced: p50 (ms)",
           _ws("1000", "paced_1_per_session_per_second", ("latency_ms", "p50"))),
    Figure("ws_roundtrip", "1,000 sessions paced: p99 (ms)",
           _ws("1000", "paced_1_per_session_per_second", ("latency_ms", "p99")), target="value<=50"),
    Figure("ws_roundtrip", "1,000 sessions paced: events lost",
           _ws("1000", "paced_1_per_session_per_second", ("lost",)), target="value<=0"),
    Figure("events_fanout", "events: 1 event → 1,000 tabs, one Daphne, last tab p50 (ms)",
           _events("one_process", "last_tab_ms", "p50")),
    Figure("events_fanout", "events: 1 event → 1,000 tabs, one Daphne, last tab p99 (ms)",
           _events("one_process", "last_tab_ms", "p99"), target="value<=200"),
    Figure("events_fanout", "events: 1 event → 1,000 tabs, two Daphnes, last tab p99 (ms)",
           _events("two_processes", "last_tab_ms", "p99"), target="value<=200"),
    *[
        Figure("ws_roundtrip", f"{n} session{'s' if n != '1' else ''}, closed loop: {label}",
               _ws(n, "closed_loop", path), lower_is_better=label != "events/s")
        for n in ("1", "100", "1000")
        for label, path in (("events/s", ("events_per_second",)), ("p50 (ms)", ("latency_ms", "p50")),
                            ("p99 (ms)", ("latency_ms", "p99")))
    ],
]  # fmt: skip


def export(commit: str) -> Path:
    """The committed tree at `commit`, with this checkout's bench/ scripts, in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="bench-tree-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    (folder / "bench").mkdir(exist_ok=True)
    for script in (ROOT / "bench").glob("*.py"):
        shutil.copy2(script, folder / "bench" / script.name)
    return folder


def wait_for_quiet() -> float:
    """Wait, at most QUIET_WAIT_SECONDS, until the load average drops under QUIET_LOAD; return it."""
    deadline = time.monotonic() + QUIET_WAIT_SECONDS
    while psutil.getloadavg()[0] > QUIET_LOAD and time.monotonic() < deadline:
        time.sleep(10)
    return psutil.getloadavg()[0]


def run_one(tree: Path, name: str, args: list[str], out: Path, revision: str) -> dict[str, Any]:
    load = wait_for_quiet()
    stall_before, started = cpu_pressure_total(), time.monotonic()
    print(f"--- {name} (load {load:.2f})", file=sys.stderr, flush=True)
    command = [sys.executable, str(tree / "bench" / f"{name}.py"), *args, "--json", str(out)]
    process = subprocess.Popen(command, cwd=tree)
    try:
        code = process.wait(timeout=RUN_TIMEOUT_SECONDS)
    except BaseException:  # a timeout, or this script stopped: the child stops its servers on SIGTERM
        process.terminate()
        process.wait(timeout=120)
        raise
    wall = time.monotonic() - started
    if code != 0 or not out.exists():
        return {"failed": code}
    data = json.loads(out.read_text())
    data["run"] = {"commit": revision, "wall_seconds": round(wall, 1), "load_at_start": round(load, 2),
                   "cpu_stall_share": round((cpu_pressure_total() - stall_before) / wall, 3)}  # fmt: skip
    out.write_text(json.dumps(data, indent=2) + "\n")
    return data


def best(values: list[float], lower_is_better: bool) -> float:
    return min(values) if lower_is_better else max(values)


def verdict(target: str, platform: float, reference: float) -> tuple[str, str]:
    """(target text, met?) for one row."""
    if not target:
        return "", ""
    kind, limit_text = target.split("<=") if "<=" in target else target.split(">=")
    limit = float(limit_text)
    if kind == "ratio":
        ratio = platform / reference if reference else float("inf")
        return f"≤ {limit:g}x", "yes" if ratio <= limit else f"**no** ({ratio / limit:.1f}x over)"
    if "<=" in target:
        ok = platform <= limit
        return f"≤ {limit:g}", "yes" if ok else "**no**"
    return f"≥ {limit:g}", "yes" if platform >= limit else "**no**"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".")


def _best_of(runs: list[dict[str, Any]], figure: Figure, side: str) -> tuple[float, list[float]] | None:
    try:
        values = [figure.get(run, side) for run in runs]
    except (KeyError, TypeError):
        return None
    return (best(values, figure.lower_is_better), values) if values else None


def summarise(runs: dict[str, list[dict[str, Any]]]) -> str:
    """The Markdown table: best run per figure and side, the ratio, the target and whether it is met."""
    head = ["figure", "platform (every run)", "reference", "ratio", "target", "met?", "plain Channels"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for figure in FIGURES:
        good = [run for run in runs.get(figure.benchmark, []) if "failed" not in run]
        platform = _best_of(good, figure, "platform")
        reference = _best_of(good, figure, figure.reference_side)
        if platform is None or reference is None:
            continue
        plain = _best_of(good, figure, "plain_channels")
        ratio = f"{platform[0] / reference[0]:.2f}x" if reference[0] else "-"
        target, met = verdict(figure.target, platform[0], reference[0])
        every = " / ".join(_number(v) for v in platform[1])
        plain_text = _number(plain[0]) if plain and figure.reference_side == "reference" else ""
        cells = [figure.label, f"**{_number(platform[0])}** ({every})", _number(reference[0]), ratio, target,
                 met, plain_text]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def resummarise(folder: Path) -> None:
    """Rebuild summary.md from the runs kept in a folder (every `<benchmark>-<n>.json` there)."""
    runs = {name: [json.loads(path.read_text()) for path in sorted(folder.glob(f"{name}-[0-9]*.json"))]
            for name in FULL}  # fmt: skip
    commits = sorted({run.get("run", {}).get("commit", "?")[:12] for kept in runs.values() for run in kept})
    counts = ", ".join(f"{name} x{len(kept)}" for name, kept in runs.items())
    header = f"Runs kept in {folder.name}/ ({counts}) at {', '.join(commits)}; best run per figure."
    (folder / "summary.md").write_text(header + "\n\n" + summarise(runs) + "\n")
    print(header + "\n\n" + summarise(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--commit", help="benchmark this commit (exported), not the working tree")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--quick", action="store_true", help="short runs, to check that everything works")
    parser.add_argument("--only", nargs="+", choices=sorted(FULL), help="run only these benchmarks")
    parser.add_argument("--stock", action="store_true", help="without the Redis socket-timeout workaround")
    parser.add_argument(
        "--summarise", type=Path, metavar="DIR", help="only rebuild DIR/summary.md from its runs"
    )
    options = parser.parse_args()
    options.out = options.out.resolve()  # the runs happen in the exported tree: never relative to it
    if options.summarise:
        resummarise(options.summarise)
        return
    stop_cleanly_on_signals()
    plan = QUICK if options.quick else FULL
    names = options.only or list(plan)
    tree = export(options.commit) if options.commit else ROOT
    revision = subprocess.run(["git", "-C", str(ROOT), "rev-parse", options.commit or "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    dirty = "" if options.commit else subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "dashboards", "templates", "static"],
        capture_output=True, text=True, check=True).stdout  # fmt: skip
    options.out.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    try:
        for attempt in range(options.repeat):
            for name in names:
                out = options.out / f"{name}{'-stock' if options.stock else ''}-{attempt + 1}.json"
                args = plan[name] + ["--stock"] * options.stock
                runs[name].append(run_one(tree, name, args, out, revision + ("+" if dirty else "")))
    finally:
        if tree != ROOT:
            shutil.rmtree(tree, ignore_errors=True)
    table = summarise(runs)
    header = (f"Measured {time.strftime('%Y-%m-%d')} at {revision[:12]}"
              f"{' (working tree with uncommitted runtime changes)' if dirty else ''}, "
              f"best of {options.repeat} runs per figure; machine: {json.dumps(machine())}")  # fmt: skip
    (options.out / "summary.md").write_text(header + "\n\n" + table + "\n")
    print(header + "\n\n" + table)


if __name__ == "__main__":
    main()
