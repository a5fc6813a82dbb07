"""Validates a release in a separate process: ``python -m dashboards.hosting.validator``.

Reads ``{"files": {...}}`` as JSON on stdin and writes the report as JSON on stdout. It imports
the tenant's code, so it runs with a scrubbed environment (no platform secrets), in a temporary
folder, under a time limit enforced by the parent (see ``validation.validate_release_files``).
"""

# ruff: noqa: PLC0415 - Django is configured here before anything that needs it is imported
from __future__ import annotations

import json
import sys
from typing import Any


def _configure_django() -> None:
    import django
    from django.conf import settings

    settings.configure(USE_TZ=True, INSTALLED_APPS=[], DEBUG=False)
    django.setup()


def inspect_release(files: dict[str, str]) -> dict[str, Any]:
    from dashboards.runtime.codecs import NotSerialisable, encode
    from dashboards.runtime.loader import AppLoadError, Problem, load_app
    from dashboards.runtime.page import PageError, compile_page
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
        problems.append(Problem("page", str(error), file="page", line=error.line))
    state_keys: list[str] = []
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


def main() -> None:
    request = json.load(sys.stdin)
    _configure_django()
    report = inspect_release(request["files"])
    sys.stdout = sys.__stdout__  # the app may have printed at import: the report goes last, alone
    print("\n@@REPORT@@" + json.dumps(report))


if __name__ == "__main__":
    main()
