"""The one choke point deciding whether a browser event may reach a handler, and which one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboards.runtime.loader import LoadedApp
from dashboards.runtime.protocol import (
    EVENT_NAME,
    HANDLER_EVENTS,
    MSG_EVENT,
    MSG_HANDLER,
    MSG_PAYLOAD,
    MSG_REPEAT_KEY,
    MSG_SETTLED,
    MSG_TARGET,
    RESERVED_NAMESPACES,
    namespace_of,
)


class DispatchError(ValueError):
    """An event that reaches no handler; the message is safe to show to the user."""


# A name the browser sent is quoted in the refusal (toast and log) up to this many characters:
# a 60 KB "handler" must not come back as a 60 KB toast.
SHOWN_NAME_CHARS = 60


@dataclass(frozen=True)
class Route:
    handler: str
    event: str
    payload: Any
    target: str | None
    repeat_key: str | None
    settled: bool = False  # an input's change (not its typing): it may be shown what its handler made of it


def shown(name: str) -> str:
    """A name from the browser, quoted for a message: escaped (repr) and cut to a readable length."""
    text = repr(name)
    return text if len(text) <= SHOWN_NAME_CHARS else text[: SHOWN_NAME_CHARS - 1] + "…"


def route_event(message: Any, app: LoadedApp) -> Route:
    """Resolve a parsed message to a handler of the session's release, or raise DispatchError.

    Component events (``ui:*``, ``plotly:*``) name their handler; it must be public and exported
    by *this* release. Other events are app-defined (``sales:export``) and go to the handler the
    app registered for them in its ``callbacks`` dict. Every field is checked for its type here,
    so what reaches a handler is what docs/protocol.md promises.
    """
    if not isinstance(message, dict):
        raise DispatchError("malformed message: expected a JSON object")
    event = message.get(MSG_EVENT)
    if not isinstance(event, str) or not EVENT_NAME.match(event):
        raise DispatchError("malformed message: the event name must look like 'namespace:event-name'")
    target = message.get(MSG_TARGET)
    if target is not None and not isinstance(target, str):
        raise DispatchError("malformed message: target must be a string")
    repeat_key = message.get(MSG_REPEAT_KEY)
    if repeat_key is not None and (not isinstance(repeat_key, str | int) or isinstance(repeat_key, bool)):
        raise DispatchError("malformed message: repeat_key must be a string")
    if event in HANDLER_EVENTS:
        handler = message.get(MSG_HANDLER)
        if handler is not None and not isinstance(handler, str):
            raise DispatchError("malformed message: handler must be a string")
        if not handler:
            raise DispatchError(f"the {event} event names no handler")
        if handler.startswith("_") or not app.exported(handler):
            raise DispatchError(f"unknown handler {shown(handler)}")
    elif namespace_of(event) in RESERVED_NAMESPACES:
        raise DispatchError(f"{event!r} is not an event the browser may send")
    else:
        handler = app.callbacks.get(event)
        if handler is None:
            raise DispatchError(f"no handler for {event!r}")
    return Route(
        handler=handler,
        event=event,
        payload=message.get(MSG_PAYLOAD),
        target=target,
        repeat_key=None if repeat_key is None else str(repeat_key),
        settled=message.get(MSG_SETTLED) is True,
    )
