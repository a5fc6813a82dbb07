"""Builds the HTML frames sent to a tab: out-of-band fragments, toasts and commands, in one message."""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import format_html

from dashboards.runtime.protocol import CMD_TOAST, TOAST_LEVELS, TOAST_POSITIONS

DEFAULT_TOAST_MS = {"info": 4000, "success": 4000, "warning": 6000, "error": 8000}


def toast_command(level: str, message: str, *, duration: int | None = None, position: str = "top-right",
                  link: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A toast as a command; the level and position fall back to safe values when unknown."""
    level = level if level in TOAST_LEVELS else "info"
    position = position if position in TOAST_POSITIONS else "top-right"
    duration = DEFAULT_TOAST_MS[level] if duration is None else max(0, int(duration))
    return {"type": CMD_TOAST, "level": level, "message": str(message), "duration": duration,
            "position": position, "link": link if _is_local_link(link) else None}  # fmt: skip


def _is_local_link(link: str | None) -> bool:
    return bool(link) and link.startswith("/") and not link.startswith("//")  # type: ignore[union-attr]


def render_toast(command: dict[str, Any]) -> str:
    link = format_html(' <a href="{}">Open</a>', command["link"]) if command.get("link") else ""
    role = "alert" if command["level"] in ("error", "warning") else "status"
    return format_html(
        '<div id="dashboards-toasts-{}" hx-swap-oob="beforeend">'
        '<div class="toast toast-{}" role="{}" data-duration="{}"><span class="toast-message">{}</span>{}'
        '<button type="button" class="toast-close" aria-label="Dismiss">&times;</button></div></div>',
        command["position"],
        command["level"],
        role,
        command["duration"],
        command["message"],
        link,
    )


def render_commands(commands: list[dict[str, Any]]) -> str:
    """Toasts become HTML; other commands travel as JSON for dashboards.js to run."""
    parts = []
    scripted = []
    for command in commands:
        if command["type"] == CMD_TOAST:
            parts.append(render_toast(command))
        else:
            scripted.append(command)
    if scripted:
        # An escaped attribute, not a <script>: htmx drops script elements from swapped content.
        parts.append(
            format_html(
                '<div id="dashboards-commands" hx-swap-oob="beforeend"><div class="dashboards-command" '
                'data-command="{}"></div></div>',
                json.dumps(scripted),
            )
        )
    return "".join(parts)
