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
import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dashboards.events.emitter import EmitterError, EventEmitter
from dashboards.events.event import EntityType, Event, Operation
from dashboards.events.limits import EMITS_PER_RUN
from dashboards.events.processors import EventProcessor
from dashboards.jobs.limits import MESSAGE_CHARS
from dashboards.jobs.specs import (
    JobProgress,
    JobSpec,
    check_period,
    check_retries,
    check_timeout,
    check_title,
    encode_arguments,
)
from dashboards.notifications.limits import TEAM_NOTICES_PER_RUN
from dashboards.runtime.applog import current_output
from dashboards.runtime.codecs import JsonRefused, bounded_json_copy
from dashboards.runtime.context import require_app_context
from dashboards.runtime.frames import is_local_path, toast_command
from dashboards.runtime.limits import (
    COMMAND_TEXT_MAX_CHARS,
    DOWNLOAD_MAX_BYTES,
    FILENAME_MAX_CHARS,
    SELECTOR_MAX_CHARS,
    TOAST_MAX_DURATION_MS,
    TOAST_MESSAGE_MAX_CHARS,
    URL_MAX_CHARS,
)
from dashboards.runtime.loader import function_reference, init_handlers
from dashboards.runtime.protocol import (
    CMD_CHART_LAYOUT,
    CMD_DOWNLOAD,
    CMD_NAVIGATE,
    CMD_SET_CONTENT,
    TOAST_LEVELS,
    TOAST_POSITIONS,
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
    """Show a toast in this tab: info, success, warning or error; duration in ms (0: until dismissed).

    Wrong arguments raise here, in the handler (which is then rolled back with an error toast),
    rather than show the user a toast other than the one asked for.
    """
    _require_state(state, "notify")
    level = _check_level("notify", level)
    if position not in TOAST_POSITIONS:
        raise ValueError(
            f"notify: position must be one of {', '.join(TOAST_POSITIONS)}, not {_brief(position)}"
        )
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, int | float) or not math.isfinite(duration):
            raise TypeError(f"notify: duration is a number of milliseconds, not {_brief(duration)}")
        if not 0 <= duration <= TOAST_MAX_DURATION_MS:
            raise ValueError(
                f"notify: duration must be from 0 (until dismissed) to {TOAST_MAX_DURATION_MS} ms, "
                f"not {duration}"
            )
    _check_link("notify", link)
    text = _require_str("notify", "message", message)
    if len(text) > TOAST_MESSAGE_MAX_CHARS:
        _app_log(
            "warning",
            f"notify: a message of {len(text)} characters was shortened to {TOAST_MESSAGE_MAX_CHARS}",
        )
    state.queue_command(toast_command(level, text, duration=duration, position=position, link=link))


def set_content(state: State, selector: str, text: str | int | float) -> None:
    """Set the text of an element of the page (found by CSS selector), outside any component.

    The text is set as text, never as HTML; a number is shown as ``str()`` shows it. The element
    is looked for in the app's part of the page, and one that is, holds or sits inside a
    component is left alone (components are replaced when their state changes): the browser skips
    such a command, with a warning
    in its console, and runs the frame's other commands.
    """
    _require_state(state, "set_content")
    selector = _require_str("set_content", "selector", selector)
    if not selector.strip() or len(selector) > SELECTOR_MAX_CHARS or "\x00" in selector:
        raise ValueError(
            f"set_content: selector is a CSS selector of 1 to {SELECTOR_MAX_CHARS} characters, like #note"
        )
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = str(text)
    text = _require_str("set_content", "text", text)
    if len(text) > COMMAND_TEXT_MAX_CHARS:
        raise ValueError(
            f"set_content: text must be at most {COMMAND_TEXT_MAX_CHARS} characters (it has {len(text)})"
        )
    state.queue_command({"type": CMD_SET_CONTENT, "selector": selector, "text": text})


# type/subtype, then optional parameters (RFC 6838 names): nothing a Blob could choke on.
_MIME_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MIME_TYPE = re.compile(
    rf'{_MIME_NAME}/{_MIME_NAME}(?:[ \t]*;[ \t]*{_MIME_NAME}=(?:{_MIME_NAME}|"[^"\x00-\x1f\x7f]*"))*'
)


def download(
    state: State,
    content: str | bytes | bytearray | memoryview,
    filename: str,
    mime_type: str = "application/octet-stream",
) -> None:
    """Make the browser save a file: text (saved as UTF-8) or bytes, of at most 5 MiB.

    The whole file travels in the tab's next frame; a bigger one belongs on a job's result or a
    page of its own. ``filename`` is a name, not a path.
    """
    _require_state(state, "download")
    filename = _require_str("download", "filename", filename)
    if (
        not filename.strip(" .")
        or len(filename) > FILENAME_MAX_CHARS
        or any(c in filename for c in "/\\")
        or any(ord(c) < 32 or ord(c) == 127 for c in filename)
    ):
        raise ValueError(
            f"download: filename is a file name of 1 to {FILENAME_MAX_CHARS} characters, without a folder "
            f"or control characters, like report.csv; not {_brief(filename)}"
        )
    mime_type = _require_str("download", "mime_type", mime_type)
    if len(mime_type) > 255 or not _MIME_TYPE.fullmatch(mime_type):
        raise ValueError(f"download: mime_type is a media type like text/csv, not {_brief(mime_type)}")
    if isinstance(content, str):
        # UTF-8 takes at most 4 bytes a character: most texts need no encoding to be measured.
        size = (
            len(content)
            if len(content) * 4 <= DOWNLOAD_MAX_BYTES
            else len(content.encode("utf-8", "surrogatepass"))
        )
        data, encoding = content, "text"
    elif isinstance(content, bytes | bytearray | memoryview):
        raw = bytes(content)
        size = len(raw)
        data, encoding = "", "base64"
    else:
        raise TypeError(f"download: content must be str or bytes, not {type(content).__name__}")
    if size > DOWNLOAD_MAX_BYTES:
        raise ValueError(f"download: content must be at most {DOWNLOAD_MAX_BYTES} bytes (it has {size})")
    if encoding == "base64":
        data = base64.b64encode(raw).decode()
    state.queue_command({"type": CMD_DOWNLOAD, "content": data, "encoding": encoding, "filename": filename,
                         "mimeType": mime_type})  # fmt: skip


def navigate(state: State, url: str) -> None:
    """Send the tab to another page of the platform (a path on this site)."""
    _require_state(state, "navigate")
    url = _require_str("navigate", "url", url)
    if not is_local_path(url):
        raise ValueError(
            f"navigate takes a path on this site, like /t/acme/ (at most {URL_MAX_CHARS} characters, "
            f"no backslash or control characters), not {_brief(url)}"
        )
    state.queue_command({"type": CMD_NAVIGATE, "url": url})


def update_chart_layout(state: State, target: str, layout: Mapping[str, Any]) -> None:
    """Change a chart's layout (title, axes...) without sending its data again; target is its id.

    The layout is copied as JSON now (dates become ISO strings): changing it afterwards changes
    nothing, and what cannot reach the browser raises here, in the handler.
    """
    _require_state(state, "update_chart_layout")
    target = _require_str("update_chart_layout", "target", target)
    if not target or len(target) > SELECTOR_MAX_CHARS:
        raise ValueError("update_chart_layout: target is the chart's component id, like chart")
    if hasattr(layout, "to_plotly_json"):  # a plotly.graph_objects.Layout
        layout = layout.to_plotly_json()
    if not isinstance(layout, Mapping):
        raise TypeError(f"update_chart_layout: layout must be a dict, not {type(layout).__name__}")
    try:
        copied = bounded_json_copy(
            dict(layout),
            limit=COMMAND_TEXT_MAX_CHARS,
            what="update_chart_layout: layout",
            default=_layout_value,
        )
    except JsonRefused as error:
        raise ValueError(str(error)) from None
    state.queue_command({"type": CMD_CHART_LAYOUT, "target": target, "layout": copied})


def _layout_value(value: Any) -> Any:
    """What Plotly itself accepts in a layout besides JSON: dates, numpy scalars and arrays."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if hasattr(value, "tolist") and callable(value.tolist):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# --- checks shared by the functions above: a clear error in the handler, never a broken frame ---
def _require_state(state: Any, what: str) -> None:
    if not isinstance(state, State):
        raise TypeError(f"{what} takes the handler's state first: {what}(state, ...), not {_brief(state)}")


def _require_str(what: str, name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what}: {name} must be a string, not {type(value).__name__}")
    return str.__str__(value)  # a plain str, even from a str subclass


def _check_level(what: str, level: Any) -> str:
    """The level as the platform names it; Taipy's ``"I"``, ``"S"``, ``"W"``, ``"E"`` and any case
    (``"INFO"``) are taken too."""
    if isinstance(level, str):
        name = level.strip().lower()
        name = _LEVEL_INITIALS.get(name, name)
        if name in TOAST_LEVELS:
            return name
    raise ValueError(f"{what}: level must be one of {', '.join(TOAST_LEVELS)}, not {_brief(level)}")


_LEVEL_INITIALS = {level[0]: level for level in TOAST_LEVELS}


def _check_link(what: str, link: Any) -> None:
    if link is not None and not is_local_path(link):
        raise ValueError(f"{what}: link is a path on this site, like /t/acme/jobs/, not {_brief(link)}")


def _brief(value: Any) -> str:
    """A value as an error message can quote it: short, and never raising itself."""
    try:
        text = repr(value)
    except Exception:  # a huge int (Python 3.11 refuses to print one), a broken __repr__
        return f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def _within_run_limit(what: str, count: int, limit: int) -> bool:
    """Whether this run's ``count``-th call of ``what`` may go; the first refused one says so in
    the app's log (each call is rows and messages for other people: a loop must not flood them)."""
    if count == limit + 1:
        _app_log("warning", f"{what}: at most {limit} per run of a handler, job or callback; "
                            "the rest of this run's were not sent")  # fmt: skip
    return count <= limit


def _app_log(level: str, line: str) -> None:
    """A line in the app's log, next to the handler's own output (nowhere outside a run)."""
    sink = current_output.get()
    if sink is not None:
        sink.append((level, line))


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
    title: str | None = None,
) -> None:
    """Run ``user_function(*user_function_args)`` on a job worker, and tell this tab how it goes.

    ``user_status_function(state, status, [result,] *user_status_function_args)`` runs in this tab
    with ``status`` True or False (and the function's result) when the job ends, and with a
    ``JobProgress`` (an int counting the periods, plus ``fraction`` and ``message``) every
    ``period`` ms and at every ``progress()`` report while it runs. Both functions are
    module-level functions of the app; arguments and the result must be JSON-serialisable.
    ``timeout`` is in seconds (default 10 minutes); ``retries`` retries a failed job with backoff.
    ``title`` is what people read of the job (the team's toast, the inbox, the Jobs page); by
    default the function's name, humanised (``build_report``: "Build report").
    The job starts once this handler has succeeded (a handler that fails starts nothing).
    """
    _require_state(state, "invoke_long_callback")
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
        timeout_seconds=check_timeout(timeout),
        max_retries=check_retries(retries),
        title=check_title(title),
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
    if fraction is not None and (
        isinstance(fraction, bool) or not isinstance(fraction, int | float) or not math.isfinite(fraction)
    ):
        raise TypeError(f"progress: fraction is a number from 0 to 1, or None; not {_brief(fraction)}")
    message = _require_str("progress", "message", message)[:MESSAGE_CHARS]
    context.progress_sink(None if fraction is None else min(max(float(fraction), 0.0), 1.0), message)


def notify_team(team: str, level: str, message: str, link: str | None = None) -> None:
    """Tell every member of a team of this tenant: a toast on their open pages and an inbox entry.

    From a handler it is sent once the handler has succeeded; from a job, at once. At most 10 per
    run of a handler or job: the rest of that run's are not sent (a warning in the app's log says so).
    """
    context = require_app_context("notify_team")
    team = _require_str("notify_team", "team", team)
    level = _check_level("notify_team", level)
    message = _require_str("notify_team", "message", message)
    _check_link("notify_team", link)
    tenant_id = context.tenant_id
    context.team_notices += 1
    if not _within_run_limit("notify_team", context.team_notices, TEAM_NOTICES_PER_RUN):
        return

    def send() -> Any:
        from dashboards.notifications.services import notification_send_to_team  # noqa: PLC0415
        from dashboards.tenancy.models import Team  # noqa: PLC0415 - app code imports the SDK bare

        team_row = Team.objects.for_tenant(tenant_id).filter(name=team).first()
        if team_row is None:
            raise ValueError(f"there is no team named {team!r} in this tenant")
        return notification_send_to_team(team=team_row, level=level, message=message, link=link)

    if context.team_sink is not None:  # the test client records it, when the platform would send it
        send = functools.partial(context.team_sink, {"team": team, "level": level, "message": message,
                                                     "link": link})  # fmt: skip
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
    sent once the handler has succeeded; from a job or an ``on_event`` callback, at once. At most
    20 per run of a handler, job or callback: the rest of that run's are not sent (a warning in
    the app's log says so).
    """
    context = require_app_context("emit_event")
    from dashboards.events.event import operation_of  # noqa: PLC0415
    from dashboards.events.processing import current_event_depth  # noqa: PLC0415

    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise ValueError("an event name is a non-empty string of at most 64 characters")
    if not isinstance(attribute_name, str):
        raise ValueError(f"attribute_name is a string, not {type(attribute_name).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"metadata is a dict, not {type(metadata).__name__}")
    operation_of(operation)
    context.emitted += 1
    if not _within_run_limit("emit_event", context.emitted, EMITS_PER_RUN):
        return
    extra = dict(metadata or {})
    extra.pop("depth", None)  # the platform's: an app's own (negative, say) would pass the loop guard
    depth = current_event_depth.get()
    if depth:
        extra["depth"] = depth
    tenant_id, app_id, user_id = context.tenant_id, context.app_id, context.user_id

    def send() -> Any:
        from dashboards.events.services import event_emit  # noqa: PLC0415 - app code imports the SDK bare

        return event_emit(tenant_id=tenant_id, entity_type="custom", entity_id=name, operation=operation,
                          attribute_name=attribute_name, attribute_value=value, metadata=extra, app_id=app_id,
                          user_id=user_id)  # fmt: skip

    if context.event_sink is not None:  # the test client delivers it, when the platform would send it
        send = functools.partial(context.event_sink, Event(
            entity_type="custom", operation=operation_of(operation), entity_id=name,
            attribute_name=attribute_name, attribute_value=value, metadata=extra, tenant_id=tenant_id,
            app_id=app_id, user_id=user_id,
        ))  # fmt: skip
    if context.acts_now:
        send()
    else:
        context.deferred.append(send)
