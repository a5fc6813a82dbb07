"""Runs release validation in a child process with time and memory limits and no platform secrets.

The parent starts ``validator.py --supervise`` in a session of its own; that supervisor starts the
validator, which imports the app and hands its report over an inherited pipe, length first, then
ends at once (``os._exit``): an ``atexit`` handler or a thread of the app cannot write a report
after it, and only the first complete report is read. A report is then checked field by field
(``_malformed``): whatever the app managed to put in its place makes the release invalid, never
a report the platform would trip on later. What the app prints goes to a pipe of which only the
tail is kept, so an app that floods its output costs the web process nothing.

Processes the app starts: the supervisor is a child subreaper (Linux), so when the validator has
ended, or at the time limit (the parent's SIGTERM), it kills every process left below it, even one
in a session of its own; the parent then kills the supervisor's process group as a backstop.
What validation does not hide from the app (files and ``/proc`` entries the platform's user can
read): see docs/runtime.md.
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
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from dashboards.config.environment import BASE_DIR
from dashboards.runtime.limits import (
    VALIDATION_MEMORY_BYTES,
    VALIDATION_OUTPUT_TAIL_BYTES,
    VALIDATION_TIMEOUT_SECONDS,
    VALIDATIONS_AT_ONCE,
)

logger = logging.getLogger(__name__)

_reports: dict[str, dict[str, Any]] = {}  # the same files always give the same report
_REPORTS_KEPT = 64
_validations = threading.BoundedSemaphore(VALIDATIONS_AT_ONCE)  # per process
# Once the child has exited (or its report has come), how long its output is still read.
_EXIT_GRACE_SECONDS = 1.0
# At the time limit, how long the supervisor has to end the validator and what it started.
_SUPERVISOR_GRACE_SECONDS = 3.0
# The supervisor's own alarm, past the time limit: it ends itself even if this process is gone.
SUPERVISOR_SLACK_SECONDS = 10.0
_REPORT_MAX_BYTES = 16 * 1024**2


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
    # Each validation is two processes of up to VALIDATION_MEMORY_BYTES: a developer deploying in a
    # loop, or many at once, would hold the machine's memory. The rest wait, up to the time limit.
    if not _validations.acquire(timeout=timeout):
        return _failed("timeout", f"other releases were being validated for {timeout:g} s: deploy again")
    try:
        report = _validate(files, timeout)
    finally:
        _validations.release()
    transient = any(p["kind"] in ("timeout", "crash") for p in report.get("problems", []))
    if transient:
        logger.warning("Release validation failed: %s", report["problems"][0]["message"])
    elif len(_reports) < _REPORTS_KEPT:
        _reports[digest] = report
    return report


def _validate(files: dict[str, str], timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dashboards-validate-") as workdir:
        request = Path(workdir, "request.json")
        request.write_text(json.dumps({"files": files, "memory_bytes": VALIDATION_MEMORY_BYTES}), "utf-8")
        outcome = _run(request, workdir, timeout)
    if outcome.report is None:
        if outcome.report_error:
            return _failed("crash", f"the validation report was malformed: {outcome.report_error}")
        if outcome.returncode is None:
            return _failed(
                "timeout", f"validation took longer than {timeout:g} s (an import or a page that never ends?)"
            )
        return _failed("crash", _no_report(outcome.returncode, outcome.tail))
    try:
        parsed = json.loads(outcome.report)
    except ValueError:
        return _failed("crash", "the validation report was malformed: not JSON (did the app write it?)")
    why = _malformed(parsed)
    if why:
        return _failed("crash", f"the validation report was malformed: {why} (did the app write it?)")
    return cast(dict[str, Any], parsed)


@dataclass
class _Outcome:
    returncode: int | None  # None: still running at the time limit
    tail: str  # the end of what the child printed
    report: bytes | None  # the first complete report
    report_error: str = ""  # a report that could not be read whole


def _run(request: Path, workdir: str, timeout: float) -> _Outcome:
    deadline = time.monotonic() + timeout
    report_read, report_write = os.pipe()
    # Past the limit the supervisor ends itself too (with its validator and whatever it started),
    # should this process die without ending it.
    own_limit = timeout + SUPERVISOR_SLACK_SECONDS
    command = [sys.executable, "-s", "-m", "dashboards.hosting.validator", "--supervise", str(request),
               str(report_write), str(os.getpid()), f"{own_limit:.0f}"]  # fmt: skip
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            cwd=workdir, env=_child_environment(workdir), start_new_session=True, pass_fds=(report_write,),
        )  # fmt: skip
    except BaseException:
        os.close(report_read)
        raise
    finally:
        os.close(report_write)  # the child's copy only: the report pipe's end comes with the child's
    assert process.stdout is not None
    try:
        outcome = _read(process, report_read, deadline)
    finally:
        _end(process)
        process.stdout.close()
        os.close(report_read)
    return outcome


def _status(process: subprocess.Popen[bytes]) -> int | None:
    """The child's exit status like ``returncode`` (None: running), without reaping it: its pid,
    and so its process group, stays taken until ``_end`` has killed that group."""
    try:
        info = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # reaped already
        return process.returncode if process.returncode is not None else 0
    if info is None:
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _exited(process: subprocess.Popen[bytes]) -> bool:
    return _status(process) is not None


def _read(process: subprocess.Popen[bytes], report_fd: int, deadline: float) -> _Outcome:
    """Read the child's output (keeping its last VALIDATION_OUTPUT_TAIL_BYTES) and its report, until
    the report is complete and the child has ended, or both pipes are closed, or the time is up."""
    assert process.stdout is not None
    out_fd = process.stdout.fileno()
    tail, report = bytearray(), bytearray()
    complete: bytes | None = None
    error = ""
    returncode: int | None = None
    exited_at: float | None = None
    completed_at: float | None = None
    with selectors.DefaultSelector() as selector:
        selector.register(out_fd, selectors.EVENT_READ)
        selector.register(report_fd, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if exited_at is None:
                returncode = _status(process)
                exited_at = None if returncode is None else now
            if error or (exited_at is not None and (complete is not None or not selector.get_map())):
                break
            until = deadline
            for since in (exited_at, completed_at):
                if since is not None:
                    until = min(until, since + _EXIT_GRACE_SECONDS)
            if now >= until:
                break
            for key, _ in selector.select(min(until - now, 0.1)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fd)
                elif key.fd == out_fd:
                    tail += chunk
                    del tail[:-VALIDATION_OUTPUT_TAIL_BYTES]
                else:
                    report += chunk
                    complete, error = _complete(report)
                    if complete is not None or error:
                        selector.unregister(report_fd)  # what comes after the first report is ignored
                        completed_at = time.monotonic()
    return _Outcome(returncode, tail.decode("utf-8", errors="replace"), complete, error)


def _complete(report: bytearray) -> tuple[bytes | None, str]:
    """The report once it has all come (length first), or why it never will."""
    if len(report) < 4:
        return None, ""
    length = int.from_bytes(report[:4], "big")
    if length > _REPORT_MAX_BYTES:
        return None, f"{length} bytes announced, more than the {_REPORT_MAX_BYTES} allowed"
    if len(report) < 4 + length:
        return None, ""
    return bytes(report[4 : 4 + length]), ""


def _end(process: subprocess.Popen[bytes]) -> None:
    """At the time limit, ask the supervisor to end the validator and all it started; then kill its
    group (whatever the supervisor missed, or the supervisor itself) before it is reaped."""
    if not _exited(process):
        with suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)  # not send_signal(): it would reap the child
        deadline = time.monotonic() + _SUPERVISOR_GRACE_SECONDS
        while not _exited(process) and time.monotonic() < deadline:
            time.sleep(0.01)
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


_PROBLEM_KEYS = {"kind", "message", "file", "line"}
_REQUIRED_KEYS = {"ok", "problems", "handlers", "state_keys"}
_OK_KEYS = _REQUIRED_KEYS | {"callbacks", "on_event", "broadcast_on_event"}  # a valid release's


def _malformed(report: Any) -> str:  # noqa: PLR0911 - one reason per rule
    """Why a report is not one the validator writes (empty: it is), field by field: the admin,
    deploy_app and the event delivery of every app of the tenant read it as the platform wrote it."""
    if not isinstance(report, dict):
        return "not an object"
    keys = set(report)
    ok = report.get("ok")
    if not isinstance(ok, bool):
        return "`ok` is not true or false"
    if not _REQUIRED_KEYS <= keys or not keys <= _OK_KEYS or (ok and keys != _OK_KEYS):
        return f"unexpected fields {sorted(keys, key=str)}"
    problems = report["problems"]
    if not isinstance(problems, list) or not all(_is_problem(p) for p in problems):
        return "`problems` is not a list of problems"
    if ok == bool(problems):
        return "`ok` does not match `problems`"
    for name in ("handlers", "callbacks", "state_keys"):
        value = report.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return f"`{name}` is not a list of names"
    on_event = report.get("on_event", [])
    if not isinstance(on_event, list) or not all(_is_coarse_filter(f) for f in on_event):
        return "`on_event` is not a list of event filters"
    count = report.get("broadcast_on_event", 0)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return "`broadcast_on_event` is not a count"
    return ""


def _is_problem(problem: Any) -> bool:
    return (
        isinstance(problem, dict) and set(problem) == _PROBLEM_KEYS
        and isinstance(problem["kind"], str) and isinstance(problem["message"], str)
        and (problem["file"] is None or isinstance(problem["file"], str))
        and (problem["line"] is None or (type(problem["line"]) is int and problem["line"] >= 0))
    )  # fmt: skip


def _is_coarse_filter(values: Any) -> bool:
    """What ``EventFilter.coarse()`` writes, and ``EventFilter.from_coarse`` reads back unchanged."""
    from dashboards.events.event import EventFilter  # noqa: PLC0415 - only for a report to check

    coarse_keys = {"entity_type", "operation", "entity_id", "attribute_name"}
    if not isinstance(values, dict) or set(values) != coarse_keys:
        return False
    if not all(value is None or isinstance(value, str) for value in values.values()):
        return False
    try:
        return EventFilter.from_coarse(values).coarse() == values
    except (TypeError, ValueError):
        return False


def _failed(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "problems": [{"kind": kind, "message": message, "file": None, "line": None}],
            "handlers": [], "state_keys": []}  # fmt: skip
