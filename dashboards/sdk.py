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
from typing import Any

from dashboards.runtime.frames import toast_command
from dashboards.runtime.loader import init_handlers
from dashboards.runtime.protocol import CMD_CHART_LAYOUT, CMD_DOWNLOAD, CMD_NAVIGATE, CMD_SET_CONTENT
from dashboards.runtime.session import SessionInfo as Session
from dashboards.runtime.state import SessionState as State

__all__ = [
    "Session",
    "State",
    "download",
    "init_handlers",
    "navigate",
    "notify",
    "set_content",
    "update_chart_layout",
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
