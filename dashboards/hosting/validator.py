"""Validates a release in a separate process: ``python -m dashboards.hosting.validator REQUEST FD``.

Reads ``{"files": {...}, "memory_bytes": N}`` as JSON from the file REQUEST and writes the report
as JSON to the inherited pipe FD, preceded by its length (4 bytes, big-endian), then ends at once
with ``os._exit``: no ``atexit`` handler or thread of the app runs after the report, and the parent
takes the first complete report only. What the app prints goes to stdout, apart. It imports the
tenant's code, so it runs with a scrubbed environment (no platform secrets), in a temporary
folder, with a memory limit it sets itself and a time limit enforced by the parent (see
``validation.py``).

``python -m dashboards.hosting.validator --supervise REQUEST FD PARENT SECONDS`` is the process the
parent starts: it runs no app code. On Linux it makes itself a child subreaper, starts the
validator, and once the validator has ended (or the parent sends SIGTERM at the time limit) kills
every process left below it, including one the app started in a session of its own
(``os.setsid()``): orphans are reparented to it, not to init. It then ends the way the validator
ended. If the parent (pid PARENT) dies first, which a killed ``deploy_app`` or web process does
without sending anything, the kernel's parent-death signal ends it the same way, and so does its
own alarm SECONDS (a little past the parent's limit) after it starts.

None of this is a security boundary: app code runs in the validator's process and can reach what
it can (the pipe, the supervisor's pid). The parent checks the report's shape strictly.
"""

# ruff: noqa: PLC0415 - Django is configured here before anything that needs it is imported
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

urlpatterns: list[Any] = []  # the child's URLconf (see _configure_django)


def _configure_django() -> None:
    import django
    from django.conf import settings

    # No URL of the platform here: a page's {% url %} is resolved by the web process only.
    settings.configure(USE_TZ=True, INSTALLED_APPS=[], DEBUG=False, ROOT_URLCONF=__name__)
    django.setup()


def inspect_release(files: dict[str, str]) -> dict[str, Any]:
    from dashboards.runtime.loader import AppLoadError, load_app

    try:
        app = load_app("validate", files)
    except AppLoadError as error:
        return {
            "ok": False,
            "problems": [with_import_hint(p.as_dict(), files) for p in error.problems],
            "handlers": [],
            "state_keys": [],
        }
    problems, state_keys = loaded_app_problems(app)
    return {
        "ok": not problems,
        "problems": [p.as_dict() for p in problems],
        "handlers": sorted(app.handlers),
        "callbacks": sorted(app.callbacks),
        "state_keys": state_keys,
        # What the platform tests before it enqueues an event for this release's on_event callbacks.
        "on_event": [s.filter.coarse() for s in app.event_subscriptions(broadcast=False)],
        "broadcast_on_event": len(app.event_subscriptions(broadcast=True)),
    }


def loaded_app_problems(app: Any) -> tuple[list[Any], list[str]]:
    """What is wrong with an app that loaded (its page, its initial state), and its state keys.

    Also what ``dashboards.testing`` checks, so an app its test client accepts is a valid release.
    """
    from dashboards.runtime.codecs import NotSerialisable, encode
    from dashboards.runtime.loader import Problem
    from dashboards.runtime.page import Page, PageError, compile_page
    from dashboards.runtime.session import SessionInfo, initial_values

    problems: list[Problem] = []
    page: Page | None = None
    try:
        page = compile_page(app.page_source)
        for component in page.components.values():
            for name in ("on_click", "on_change", "on_selected"):
                handler = component.literal(name)
                if handler in app.not_handlers:
                    problems.append(app.not_handlers[handler])
                elif handler and not app.exported(handler):
                    problems.append(
                        Problem(
                            "page", f"component {component.component_id} names unknown handler {handler!r}"
                        )
                    )
    except PageError as error:
        page = None
        problems.append(Problem("page", str(error).removeprefix("page: "), file="page", line=error.line))
    state_keys: list[str] = []
    values: dict[str, Any] | None = None
    try:
        info = SessionInfo(session_id="validation", user_id=None, username="validator", tenant="", app="")
        values = initial_values(app, info)
        state_keys = sorted(key for key in values if isinstance(key, str))  # others: a problem below
        for key, value in values.items():
            if not isinstance(key, str):
                problems.append(Problem("state", f"state key {key!r} is not a string"))
                continue
            try:
                encode(value)
            except NotSerialisable as error:
                problems.append(Problem("state", f"state key {key!r} cannot be serialised: {error}"))
    except Exception as error:
        problems.append(Problem("initial_state", f"initial_state failed: {type(error).__name__}: {error}"))
    if page is not None and values is not None and not problems:
        problems += _render_problems(page, values)
    return problems, state_keys


_NO_MODULE = re.compile(r"^ModuleNotFoundError: No module named '([^'.]+)")


_MISSING_SIBLING = re.compile(
    r"^(?:ImportError: cannot import name '(\w+)' from '[\w.]+' \(unknown location\)"
    r"|ModuleNotFoundError: No module named '[\w.]+\.(\w+)')"
)


def with_import_hint(problem: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    """The two import mistakes of a release's own modules, with what to do:

    - ``import helpers`` of its ``helpers.py``: the modules of a release form a package, so a
      sibling is imported relatively;
    - ``from . import helpers`` when ``helpers.py`` was left out (``main.py`` deployed alone, not
      its folder): the message named the platform's internal package and nothing else.
    """
    if problem["kind"] != "import":
        return problem
    match = _NO_MODULE.match(problem["message"])
    if match and f"{match[1]}.py" in files:
        problem["message"] += (
            f" (the release's modules form a package: import a sibling module relatively,"
            f" `from . import {match[1]}`)"
        )
        return problem
    missing = _MISSING_SIBLING.match(problem["message"])
    name = missing and (missing[1] or missing[2])
    if name and f"{name}.py" not in files:
        problem["message"] = (
            f"{name}.py is not part of this release: deploy the app's folder or a .zip of it, with "
            "every module main.py imports, not main.py alone"
        )
    return problem


def _render_problems(page: Any, values: dict[str, Any]) -> list[Any]:
    """The page shown once with the initial state: a tag that fails only when shown (an ``include``,
    a filter dividing by zero, a loop over a number) would otherwise fail every user's page load."""
    from django.urls import NoReverseMatch

    from dashboards.runtime.components import SCENARIOS_KEY, page_uses_scenarios
    from dashboards.runtime.limits import VALIDATION_RENDER_SECONDS
    from dashboards.runtime.loader import Problem
    from dashboards.runtime.render_deadline import render_deadline

    shown = {**values, **({SCENARIOS_KEY: []} if page_uses_scenarios(page) else {})}
    try:
        with render_deadline(VALIDATION_RENDER_SECONDS):  # a report, not validation's own time-out
            page.render(shown)
            # The page shows a component that cannot show its value as a note in its place; a
            # handler leaving that value is undone. So is the release whose initial state does.
            page.render_components(list(page.components), shown)
    except NoReverseMatch:
        pass  # {% url %}: the platform's URLs are known to the web process only
    except Exception as error:
        message = f"the page cannot be shown with the initial state: {type(error).__name__}: {error}"
        return [Problem("page", message, file="page")]
    return []


def _limit_resources(memory_bytes: int | None) -> None:
    """Before any app code runs: its data may not grow past the limit, and a crash dumps no core."""
    import resource

    limits = [(resource.RLIMIT_CORE, 0)]
    if memory_bytes:
        limits.append((resource.RLIMIT_DATA, memory_bytes))
    for kind, wanted in limits:
        _, hard = resource.getrlimit(kind)
        value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(kind, (value, value))  # the hard limit too: the app cannot raise it
        except (ValueError, OSError):
            pass  # a platform that does not enforce it (macOS): the time limit still holds


def _exit_report(error: BaseException) -> dict[str, Any]:
    """The app ended the process (``sys.exit()``, ``raise SystemExit``) while it was validated."""
    from dashboards.runtime.loader import _import_problem

    problem = _import_problem(error).as_dict()  # the app's line that exited
    problem.update(kind="import_error", message=f"the app must not exit: {type(error).__name__}({error})")
    return {"ok": False, "problems": [problem], "handlers": [], "state_keys": []}


def _write_report(fd: int, report: dict[str, Any]) -> None:
    data = json.dumps(report).encode()
    view = memoryview(len(data).to_bytes(4, "big") + data)
    while view:
        view = view[os.write(fd, view) :]
    os.close(fd)


def main() -> NoReturn:
    if sys.argv[1] == "--supervise":
        supervise(sys.argv[2:6])
    request_path, report_fd = sys.argv[1], int(sys.argv[2])
    os.set_inheritable(report_fd, False)  # not handed to a program the app runs
    request = json.loads(Path(request_path).read_text("utf-8"))
    _limit_resources(request.get("memory_bytes"))
    _configure_django()
    try:
        report = inspect_release(request["files"])
    except (SystemExit, KeyboardInterrupt) as error:
        report = _exit_report(error)
    for problem in report["problems"]:
        if problem["message"].startswith("MemoryError"):
            mib = request.get("memory_bytes", 0) // 2**20
            problem["message"] = f"MemoryError: the app needs more than the {mib} MiB validation allows"
    _write_report(report_fd, report)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: S110 - the app may have replaced or closed them
            pass
    # Not sys.exit(): the app's atexit handlers and non-daemon threads must not run after the report.
    os._exit(0)


def supervise(arguments: list[str]) -> NoReturn:
    """Run the validator, then end every process left below this one; end the way it ended."""
    import signal
    import subprocess

    from dashboards.ops.lifelines import become_subreaper, die_with_parent

    request_path, report_fd, parent, seconds = arguments
    _limit_resources(None)  # no core dump of this process either, when it mirrors a crash
    running = 0  # the validator's pid while it can be signalled (not reaped yet)
    stopped = False

    def stop(signum: int, frame: object) -> None:  # the parent's SIGTERM: the time limit is over
        nonlocal stopped
        stopped = True
        if running:
            os.kill(running, signal.SIGKILL)  # then waitid() below returns, and the rest is ended

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGALRM, stop)
    die_with_parent(signal.SIGTERM, parent=int(parent))
    signal.alarm(max(1, int(float(seconds))))
    become_subreaper()
    fd = int(report_fd)
    child = subprocess.Popen(
        [sys.executable, "-s", "-m", "dashboards.hosting.validator", request_path, report_fd], pass_fds=(fd,)
    )
    running = child.pid
    if stopped:  # before the validator's pid was known
        os.kill(running, signal.SIGKILL)
    os.close(fd)  # the validator's copy only
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ended, not reaped: its pid stays its own
    running = 0
    _, status = os.waitpid(child.pid, 0)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    _end_descendants()
    if os.getppid() != int(parent):  # the parent was killed: nobody else removes the release's source
        _remove_request_folder(Path(request_path).parent)
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _remove_request_folder(folder: Path) -> None:
    import shutil

    if folder.name.startswith("dashboards-validate-"):  # the parent's temporary folder, nothing else
        shutil.rmtree(folder, ignore_errors=True)


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc: none found where there is none)."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _end_descendants(limit: float = 2.0) -> None:
    """Kill and reap every child until none is left: a killed child's children are reparented here
    (a subreaper) before it can be reaped, so no child left means no process left below."""
    import signal
    import time

    me, deadline = os.getpid(), time.monotonic() + limit
    while time.monotonic() < deadline:
        for pid in _children(me):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return  # no child, running or zombie: nothing is left below
            if pid == 0:
                break
        time.sleep(0.005)


if __name__ == "__main__":
    main()
