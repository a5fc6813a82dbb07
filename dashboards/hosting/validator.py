"""Validates a release in a separate process: ``python -m dashboards.hosting.validator REQUEST REPORT``.

Reads ``{"files": {...}, "memory_bytes": N}`` as JSON from the file REQUEST and writes the report
as JSON to the file REPORT (what the app prints goes to stdout, apart). It imports the tenant's
code, so it runs with a scrubbed environment (no platform secrets), in a temporary folder, with
a memory limit it sets itself and a time limit enforced by the parent (see ``validation.py``).
"""

# ruff: noqa: PLC0415 - Django is configured here before anything that needs it is imported
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

urlpatterns: list[Any] = []  # the child's URLconf (see _configure_django)


def _configure_django() -> None:
    import django
    from django.conf import settings

    # No URL of the platform here: a page's {% url %} is resolved by the web process only.
    settings.configure(USE_TZ=True, INSTALLED_APPS=[], DEBUG=False, ROOT_URLCONF=__name__)
    django.setup()


def inspect_release(files: dict[str, str]) -> dict[str, Any]:
    from dashboards.runtime.codecs import NotSerialisable, encode
    from dashboards.runtime.loader import AppLoadError, Problem, load_app
    from dashboards.runtime.page import Page, PageError, compile_page
    from dashboards.runtime.session import SessionInfo, initial_values

    try:
        app = load_app("validate", files)
    except AppLoadError as error:
        return {
            "ok": False,
            "problems": [p.as_dict() for p in error.problems],
            "handlers": [],
            "state_keys": [],
        }
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
        problems.append(Problem("page", str(error), file="page", line=error.line))
    state_keys: list[str] = []
    values: dict[str, Any] | None = None
    try:
        info = SessionInfo(session_id="validation", user_id=None, username="validator", tenant="", app="")
        values = initial_values(app, info)
        state_keys = sorted(values)
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


def _render_problems(page: Any, values: dict[str, Any]) -> list[Any]:
    """The page shown once with the initial state: a tag that fails only when shown (an ``include``,
    a filter dividing by zero, a loop over a number) would otherwise fail every user's page load."""
    from django.urls import NoReverseMatch

    from dashboards.runtime.components import SCENARIOS_KEY, page_uses_scenarios
    from dashboards.runtime.limits import VALIDATION_RENDER_SECONDS
    from dashboards.runtime.loader import Problem
    from dashboards.runtime.render_deadline import render_deadline

    try:
        with render_deadline(VALIDATION_RENDER_SECONDS):  # a report, not validation's own time-out
            page.render({**values, **({SCENARIOS_KEY: []} if page_uses_scenarios(page) else {})})
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


def main() -> None:
    request_path, report_path = sys.argv[1:3]
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
    Path(report_path).write_text(json.dumps(report), "utf-8")


if __name__ == "__main__":
    main()
