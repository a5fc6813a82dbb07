"""The wire protocol between a browser tab and its session, named once. See docs/protocol.md."""

from __future__ import annotations

import re

# --- WebSocket close codes ---
# 4xxx codes are ours; htmx's WebSocket extension reconnects only after 1006, 1011, 1012 and 1013,
# so a refusal is final in the browser while a restart or a crash is retried with jitter.
CLOSE_NOT_SIGNED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_APP = 4404
CLOSE_TOO_MANY_EVENTS = 4429
CLOSE_TOO_MANY_TABS = 4430
CLOSE_APP_BROKEN = 4500
CLOSE_INTERNAL_ERROR = 1011
# The standard's 1012 ("service restart") cannot be sent by a server through Daphne (Autobahn
# allows only 1000 and 3000-4999), so we send 4012 and dashboards.js treats it as 1012: reconnect.
CLOSE_SERVICE_RESTART = 4012

# --- event names: "namespace:event-name", both ways ---
# \A and \Z, not ^ and $: "$" also matches before a trailing newline ("ui:click\n").
EVENT_NAME = re.compile(r"\A[a-z][a-z0-9_-]{0,31}:[a-z][a-z0-9_-]{0,63}\Z")
# Namespaces the platform owns; apps name theirs otherwise ("sales:export").
RESERVED_NAMESPACES = frozenset({"ui", "plotly", "dashboards", "session", "platform"})

# Browser -> server
UI_CLICK = "ui:click"
UI_CHANGE = "ui:change"
PLOTLY_CLICK = "plotly:click"
PLOTLY_SELECTED = "plotly:selected"
HANDLER_EVENTS = frozenset({UI_CLICK, UI_CHANGE, PLOTLY_CLICK, PLOTLY_SELECTED})

# Server -> browser commands (carried as JSON inside the update frame, run by dashboards.js)
CMD_TOAST = "dashboards:toast"
CMD_SET_CONTENT = "dashboards:set-content"
CMD_DOWNLOAD = "dashboards:download"
CMD_NAVIGATE = "dashboards:navigate"
CMD_CHART_LAYOUT = "plotly:update-layout"

# Keys of an incoming message (compact: the browser's script builds them)
MSG_EVENT = "event"
MSG_HANDLER = "handler"
MSG_TARGET = "target"
MSG_PAYLOAD = "payload"
MSG_REPEAT_KEY = "repeat_key"
MSG_SETTLED = "settled"  # true: the input's change event (blur, Enter, a pick): the user is done with it

TOAST_LEVELS = ("info", "success", "warning", "error")
TOAST_POSITIONS = ("top-right", "top-left", "bottom-right", "bottom-left")


def namespace_of(event: str) -> str:
    return event.split(":", 1)[0]
