"""The public SDK for dashboard apps: the one module app authors import.

A handler is a plain function of the app's module; name it with a leading underscore to keep it
out of the browser's reach. Ask for what you need by parameter name::

    from dashboards.sdk import notify

    initial_state = {"count": 0}
    page = '{% text count %} {% button "Add one" on_click="increment" %}'

    def increment(state, payload, context, session):
        state.count += 1
        if state.count == 10:
            notify(state, "success", "Ten!")

See docs/sdk.md for the whole guide, with examples that run as tests.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

from dashboards.events.emitter import EmitterError, EventEmitter
from dashboards.events.event import EntityType, Event, Operation
from dashboards.events.processors import EventProcessor
from dashboards.jobs.specs import JobProgress, JobSpec, check_period, check_retries, encode_arguments
from dashboards.runtime.context import require_app_context
from dashboards.runtime.frames import toast_command
from dashboards.runtime.loader import function_reference, init_handlers
from dashboards.runtime.protocol import (
    CMD_CHART_LAYOUT,
    CMD_DOWNLOAD,
    CMD_NAVIGATE,
    CMD_SET_CONTENT,
    TOAST_LEVELS,
)
from dashboards.runtime.session import SessionInfo as Session
from dashboards.runtime.state import SessionState as State
from dashboards.scenarios.api import (
    Scenario,
    ScenarioBusy,
    ScenarioError,
    ScenarioNotFound,
    create_scenario,
    delete_scenario,
    get_scenario,
    list_scenarios,
    submit_scenario,
    update_scenario,
    write_parameters,
)

__all__ = [
    "EmitterError",
    "EntityType",
    "Event",
    "EventEmitter",
    "EventProcessor",
    "JobProgress",
    "Operation",
    "Scenario",
    "ScenarioBusy",
    "ScenarioError",
    "ScenarioNotFound",
    "Session",
    "State",
    "create_scenario",
    "delete_scenario",
    "download",
    "emit_event",
    "get_scenario",
    "init_handlers",
    "invoke_long_callback",
    "list_scenarios",
    "navigate",
    "notify",
    "notify_team",
    "progress",
    "set_content",
    "submit_scenario",
    "update_chart_layout",
    "update_scenario",
    "write_parameters",
]


def notify(
    state: State,
    level: str,
    message: str,
    *,
    duration: int | None = None,
    position: str = "top-right",
    link: str | None = None,
) -> None:
    """Show a toast in this tab: info, success, warning or error; duration in ms (0: until dismissed)."""
    state.queue_command(toast_command(level, message, duration=duration, position=position, link=link))


def set_content(state: State, selector: str, text: str) -> None:
    """Set the text of an element of the page (found by CSS selector), outside any component."""
    state.queue_command({"type": CMD_SET_CONTENT, "selector": str(selector), "text": str(text)})


def download(
    state: State, content: str | bytes, filename: str, mime_type: str = "application/octet-stream"
) -> None:
    """Make the browser save a file."""
    if isinstance(content, bytes):
        data, encoding = base64.b64encode(content).decode(), "base64"
    else:
        data, encoding = content, "text"
    state.queue_command({"type": CMD_DOWNLOAD, "content": data, "encoding": encoding, "filename": filename,
                         "mimeType": mime_type})  # fmt: skip


def navigate(state: State, url: str) -> None:
    """Send the tab to another page of the platform (a path on this site)."""
    if not url.startswith("/") or url.startswith("//"):
        raise ValueError("navigate takes a path on this site, like /t/acme/")
    state.queue_command({"type": CMD_NAVIGATE, "url": url})


def update_chart_layout(state: State, target: str, layout: dict[str, Any]) -> None:
    """Change a chart's layout (title, axes...) without sending its data again; target is its id."""
    state.queue_command({"type": CMD_CHART_LAYOUT, "target": target, "layout": layout})


def invoke_long_callback(  # noqa: PLR0917 - Taipy's positional signature
    state: State,
    user_function: Callable[..., Any],
    user_function_args: Sequence[Any] = (),
    user_status_function: Callable[..., Any] | None = None,
    user_status_function_args: Sequence[Any] = (),
    period: int = 0,
    *,
    timeout: int | None = None,
    retries: int = 0,
) -> None:
    """Run ``user_function(*user_function_args)`` on a job worker, and tell this tab how it goes.

    ``user_status_function(state, status, [result,] *user_status_function_args)`` runs in this tab
    with ``status`` True or False (and the function's result) when the job ends, and with a
    ``JobProgress`` (an int counting the periods, plus ``fraction`` and ``message``) every
    ``period`` ms and at every ``progress()`` report while it runs. Both functions are
    module-level functions of the app; arguments and the result must be JSON-serialisable.
    ``timeout`` is in seconds (default 10 minutes); ``retries`` retries a failed job with backoff.
    The job starts once this handler has succeeded (a handler that fails starts nothing).
    """
    context = require_app_context("invoke_long_callback")
    if context.in_job or not context.session_id:
        raise RuntimeError("invoke_long_callback is called from a handler of a tab")
    spec = JobSpec(
        function=function_reference(context.package, user_function),
        arguments=encode_arguments(user_function_args),
        status_function=(
            function_reference(context.package, user_status_function)
            if user_status_function is not None
            else ""
        ),
        status_arguments=tuple(encode_arguments(user_status_function_args, what="user_status_function_args")),
        period_ms=check_period(period),
        timeout_seconds=None if timeout is None else int(timeout),
        max_retries=check_retries(retries),
    )
    context.submit_job(spec)


def progress(fraction: float | None = None, message: str = "") -> None:
    """Inside a job's function: report how far it is (0 to 1, or None) and what it is doing.

    Cheap to call in a tight loop: reports are coalesced to about 20 a second.
    """
    context = require_app_context("progress")
    if context.progress_sink is None:
        raise RuntimeError(
            "progress() reports a job's progress: call it in the function given to invoke_long_callback"
        )
    context.progress_sink(fraction, message)


def notify_team(team: str, level: str, message: str, link: str | None = None) -> None:
    """Tell every member of a team of this tenant: a toast on their open pages and an inbox entry.

    From a handler it is sent once the handler has succeeded; from a job, at once.
    """
    context = require_app_context("notify_team")
    if level not in TOAST_LEVELS:
        raise ValueError(f"level must be one of {', '.join(TOAST_LEVELS)}")
    if link is not None and (not link.startswith("/") or link.startswith("//")):
        raise ValueError("link is a path on this site, like /t/acme/jobs/")
    tenant_id = context.tenant_id
    if context.team_sink is not None:
        context.team_sink({"team": team, "level": level, "message": message, "link": link})
        return

    def send() -> Any:
        from dashboards.notifications.services import notification_send_to_team  # noqa: PLC0415
        from dashboards.tenancy.models import Team  # noqa: PLC0415 - app code imports the SDK bare

        team_row = Team.objects.for_tenant(tenant_id).filter(name=team).first()
        if team_row is None:
            raise ValueError(f"there is no team named {team!r} in this tenant")
        return notification_send_to_team(team=team_row, level=level, message=message, link=link)

    if context.acts_now:
        send()
    else:
        context.deferred.append(send)


def emit_event(
    name: str,
    value: Any = None,
    *,
    attribute_name: str = "",
    operation: str = "update",
    metadata: dict[str, Any] | None = None,
) -> None:
    """Tell the tenant something happened: an event of entity type ``custom`` whose id is ``name``.

    Every process's pages and sessions can react (``EventProcessor.on_custom_event(name, ...)``,
    ``broadcast_on_event``). ``value`` and ``metadata`` must be small JSON. From a handler it is
    sent once the handler has succeeded; from a job or an ``on_event`` callback, at once.
    """
    context = require_app_context("emit_event")
    from dashboards.events.event import operation_of  # noqa: PLC0415
    from dashboards.events.processing import current_event_depth  # noqa: PLC0415

    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise ValueError("an event name is a non-empty string of at most 64 characters")
    operation_of(operation)
    extra = dict(metadata or {})
    depth = current_event_depth.get()
    if depth:
        extra["depth"] = depth
    tenant_id, app_id, user_id = context.tenant_id, context.app_id, context.user_id
    if context.event_sink is not None:
        context.event_sink(Event(entity_type="custom", operation=operation_of(operation), entity_id=name,
                                 attribute_name=attribute_name, attribute_value=value, metadata=extra,
                                 tenant_id=tenant_id, app_id=app_id, user_id=user_id))  # fmt: skip
        return

    def send() -> Any:
        from dashboards.events.services import event_emit  # noqa: PLC0415 - app code imports the SDK bare

        return event_emit(tenant_id=tenant_id, entity_type="custom", entity_id=name, operation=operation,
                          attribute_name=attribute_name, attribute_value=value, metadata=extra, app_id=app_id,
                          user_id=user_id)  # fmt: skip

    if context.acts_now:
        send()
    else:
        context.deferred.append(send)
