"""The RQ task behind ``on_event``: run a release's matching callbacks for one event, on a worker.

Each callback runs under a time limit in a thread of its own, so one that hangs is reported and
the others still run; one that raises is reported in the app's log and the others still run.
Events emitted by callbacks carry their depth, and past MAX_EVENT_DEPTH they are not processed
again: a callback that reacts to its own events cannot loop forever.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import traceback
from typing import Any

from dashboards.events.event import Event
from dashboards.events.limits import SUBSCRIBER_TIME_LIMIT_SECONDS
from dashboards.events.task_release import ReleaseUnavailable, task_release
from dashboards.runtime.applog import RunOutput, current_output, kept_lines
from dashboards.runtime.context import AppContext, current_app_context

logger = logging.getLogger(__name__)
MAX_EVENT_DEPTH = 3
current_event_depth: contextvars.ContextVar[int] = contextvars.ContextVar("event_depth", default=0)


def process_event(message: dict[str, Any], release_id: int) -> dict[str, Any]:
    """What RQ runs: ``release_id`` second, so the worker loads the release before it forks."""
    from dashboards.hosting.services import app_log_append  # noqa: PLC0415 - models load after apps

    event = Event.from_message(message)
    try:
        release = task_release(
            release_id, tenant_id=event.tenant_id, label=f"on_event ({event.entity_type} {event.operation})"
        )
    except ReleaseUnavailable as skipped:
        return {"skipped": str(skipped)}
    app = release.app
    context = AppContext(
        tenant_id=release.tenant_id,
        app_id=release.app_id,
        release_id=release.pk,
        package=app.package,
        immediate=True,
    )
    lines: list[tuple[str, str]] = []
    ran = 0
    for subscription in app.event_subscriptions(broadcast=False):
        try:
            wanted = subscription.matches(event)
        except Exception as error:
            lines.append(
                ("error", f"on_event filter of {subscription.name} failed: {type(error).__name__}: {error}")
            )
            continue
        if wanted:
            ran += 1
            lines += run_callback(
                subscription.callback,
                (event, *subscription.callback_args),
                context=context,
                depth=int(event.metadata.get("depth", 0)) + 1,
                label=f"on_event {subscription.name}",
            )
    if lines:
        app_log_append(app_id=release.app_id, tenant_id=release.tenant_id, release_id=release.pk, lines=lines)
    return {"ran": ran}


def run_callback(
    callback: Any, args: tuple[Any, ...], *, context: AppContext, depth: int, label: str
) -> list[tuple[str, str]]:
    """Run one callback in a thread of its own, up to the time limit; return its log lines."""
    output: list[tuple[str, str]] = RunOutput()
    outcome: dict[str, Any] = {}

    def target() -> None:
        current_app_context.set(context)
        current_output.set(output)
        current_event_depth.set(depth)
        try:
            callback(*args)
        except Exception as error:
            outcome["error"] = error
            outcome["traceback"] = "".join(traceback.format_exception(error))

    started = time.perf_counter()
    thread = threading.Thread(target=contextvars.Context().run, args=(target,), name="on-event", daemon=True)
    thread.start()
    thread.join(SUBSCRIBER_TIME_LIMIT_SECONDS)
    lines = kept_lines(output)
    if thread.is_alive():
        lines.append(
            ("error", f"{label}: still running after {SUBSCRIBER_TIME_LIMIT_SECONDS:g} s; left behind")
        )
    elif "error" in outcome:
        lines.append(("error", f"{label} failed:\n{outcome['traceback']}"))
    else:
        logger.debug("%s ran in %.1f ms", label, (time.perf_counter() - started) * 1000)
    return lines
