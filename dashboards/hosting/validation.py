"""Runs release validation in a child process with time and memory limits and no platform secrets.

The child (``validator.py``) reads its request from a file and writes its report to another: what
the app prints goes to a pipe of which only the tail is kept, so an app that floods its output
costs the web process nothing. The child runs in a process group of its own, ended with it: a
process the app started (a fork, a ``subprocess``) never outlives its validation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from dashboards.config.environment import BASE_DIR
from dashboards.runtime.limits import (
    VALIDATION_MEMORY_BYTES,
    VALIDATION_OUTPUT_TAIL_BYTES,
    VALIDATION_TIMEOUT_SECONDS,
)

logger = logging.getLogger(__name__)

_reports: dict[str, dict[str, Any]] = {}  # the same files always give the same report
_REPORTS_KEPT = 64
# Once the child has exited, how long its output is still read (a process it left holds the pipe).
_EXIT_GRACE_SECONDS = 1.0


def _child_environment(workdir: str) -> dict[str, str]:
    """Only what Python needs: no SECRET_KEY, DATABASE_URL, REDIS_URL or any other variable."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(BASE_DIR),
        "HOME": workdir,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",  # what the app printed before a crash is not lost in a buffer
    }


def validate_release_files(
    files: dict[str, str], *, timeout: float = VALIDATION_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """The validation report: ``ok``, ``problems`` (kind, message, file, line), handlers, state keys.

    Never raises for anything the app does: a hang, a crash, an exit or a garbled report is a problem
    in the report (and a warning in the platform's log).
    """
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    if digest in _reports:
        return _reports[digest]
    report = _validate(files, timeout)
    transient = any(p["kind"] in ("timeout", "crash") for p in report.get("problems", []))
    if transient:
        logger.warning("Release validation failed: %s", report["problems"][0]["message"])
    elif len(_reports) < _REPORTS_KEPT:
        _reports[digest] = report
    return report


def _validate(files: dict[str, str], timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dashboards-validate-") as workdir:
        request, report = Path(workdir, "request.json"), Path(workdir, "report.json")
        request.write_text(json.dumps({"files": files, "memory_bytes": VALIDATION_MEMORY_BYTES}), "utf-8")
        command = [sys.executable, "-s", "-m", "dashboards.hosting.validator", str(request), str(report)]
        returncode, tail = _run(command, workdir, timeout)
        if returncode is None:
            return _failed(
                "timeout", f"validation took longer than {timeout:g} s (an import or a page that never ends?)"
            )
        try:
            text = report.read_text("utf-8")
        except (OSError, ValueError):
            return _failed("crash", _no_report(returncode, tail))
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not _well_formed(parsed):
        return _failed("crash", "the validator's report cannot be read (did the app write over it?)")
    return parsed


def _run(command: list[str], workdir: str, timeout: float) -> tuple[int | None, str]:
    """The child's exit status (None: still running at the time limit) and the tail of its output."""
    deadline = time.monotonic() + timeout
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        cwd=workdir, env=_child_environment(workdir), start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        tail = _read_tail(process, deadline)
        try:
            returncode: int | None = process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            returncode = None
    finally:
        _end_group(process)
        process.stdout.close()
    return returncode, tail.decode("utf-8", errors="replace")


def _read_tail(process: subprocess.Popen[bytes], deadline: float) -> bytes:
    """Read the child's output as it comes, keeping its last VALIDATION_OUTPUT_TAIL_BYTES."""
    assert process.stdout is not None
    tail = bytearray()
    exited_at: float | None = None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if exited_at is None and process.poll() is not None:
                exited_at = now
            until = deadline if exited_at is None else min(deadline, exited_at + _EXIT_GRACE_SECONDS)
            if now >= until:
                return bytes(tail)
            if selector.select(min(until - now, 0.1)):
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    return bytes(tail)
                tail += chunk
                del tail[:-VALIDATION_OUTPUT_TAIL_BYTES]


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the child if it still runs, and every process it started in its group."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.kill()
    process.wait()


def _no_report(returncode: int, tail: str) -> str:
    """Why the child ended without a report, as the developer can act on it."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = " (out of memory?)" if -returncode == signal.SIGKILL else ""
        reason = f"the validator was killed by {name}{hint}"
    else:
        reason = f"the validator exited with status {returncode} before its report (os._exit() in the app?)"
    last = [line for line in tail.splitlines() if line.strip()][-1:]
    return f"{reason}: {last[0][:300]}" if last else reason


def _well_formed(report: Any) -> bool:
    """A report the admin and deploy_app can show: not whatever an app wrote in its place."""
    if not isinstance(report, dict) or not isinstance(report.get("ok"), bool):
        return False
    problems, handlers = report.get("problems"), report.get("handlers", [])
    return (
        isinstance(problems, list)
        and all(isinstance(p, dict) and isinstance(p.get("kind"), str) and isinstance(p.get("message"), str)
                for p in problems)
        and isinstance(handlers, list) and all(isinstance(h, str) for h in handlers)
        and isinstance(report.get("state_keys", []), list)
    )  # fmt: skip


def _failed(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "problems": [{"kind": kind, "message": message, "file": None, "line": None}],
            "handlers": [], "state_keys": []}  # fmt: skip
