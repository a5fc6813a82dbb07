"""Builds the HTML frames sent to a tab: out-of-band fragments, toasts and commands, in one message."""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

from django.utils.html import format_html

from dashboards.runtime import limits
from dashboards.runtime.limits import (
    TOAST_MAX_DURATION_MS,
    TOAST_MESSAGE_MAX_CHARS,
    URL_MAX_CHARS,
)
from dashboards.runtime.protocol import CMD_TOAST, TOAST_LEVELS, TOAST_POSITIONS

logger = logging.getLogger(__name__)
DEFAULT_TOAST_MS = {"info": 4000, "success": 4000, "warning": 6000, "error": 8000}
# Browsers drop tabs and newlines from URLs and read a backslash as a slash: /\evil.example and
# /<tab>/evil.example both lead off the site. Such paths are never local.
_NOT_IN_A_PATH = re.compile(r"[\x00-\x1f\x7f\\]|[\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def frame_bytes_over_limit(frame: str) -> int | None:
    """The frame's size in UTF-8 bytes when it is over ``limits.FRAME_MAX_BYTES``, else None.

    Most frames are far below it: their length in characters settles it without encoding them.
    """
    limit = limits.FRAME_MAX_BYTES
    if len(frame) * 4 <= limit:
        return None
    size = len(frame.encode("utf-8", "surrogatepass"))
    return size if size > limit else None


def toast_command(level: str, message: str, *, duration: int | None = None, position: str = "top-right",
                  link: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A toast as a command; the level and position fall back to safe values when unknown."""
    level = level if level in TOAST_LEVELS else "info"
    position = position if position in TOAST_POSITIONS else "top-right"
    return {"type": CMD_TOAST, "level": level, "message": shorten(str(message)),
            "duration": _duration(duration, DEFAULT_TOAST_MS[level]), "position": position,
            "link": link if is_local_path(link) else None}  # fmt: skip


def _duration(duration: Any, default: int) -> int:
    """Milliseconds the browser's timer can hold; anything else gets the level's default."""
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        return default
    if isinstance(duration, float) and not math.isfinite(duration):
        return default
    return min(max(0, int(duration)), TOAST_MAX_DURATION_MS)


def shorten(message: str, limit: int = TOAST_MESSAGE_MAX_CHARS) -> str:
    """A toast's text, cut to what a toast can show (as team notifications are)."""
    message = _SURROGATE.sub("\ufffd", message)  # UTF-8 has none: the frame could not be sent
    return message if len(message) <= limit else message[: limit - 1] + "…"


def is_local_path(url: Any) -> bool:
    """A path on this site that every browser reads as one: never a scheme, a host, a backslash."""
    return (
        isinstance(url, str)
        and 1 <= len(url) <= URL_MAX_CHARS
        and url.startswith("/")
        and not url.startswith("//")
        and not _NOT_IN_A_PATH.search(url)
    )


# A toast's level in words too, not by its colour alone (WCAG 1.4.1); a screen reader reads it first.
TOAST_LEVEL_LABELS = {"info": "Info", "success": "Success", "warning": "Warning", "error": "Error"}


def render_toast(command: dict[str, Any]) -> str:
    link = format_html(' <a href="{}">Open</a>', command["link"]) if command.get("link") else ""
    role = "alert" if command["level"] in ("error", "warning") else "status"
    return format_html(
        '<div id="dashboards-toasts-{}" hx-swap-oob="beforeend">'
        '<div class="toast toast-{}" role="{}" data-duration="{}"><span class="toast-message">'
        '<strong class="toast-level">{}<span class="visually-hidden">:</span></strong> {}</span>{}'
        '<button type="button" class="toast-close" aria-label="Dismiss">&times;</button></div></div>',
        command["position"],
        command["level"],
        role,
        command["duration"],
        TOAST_LEVEL_LABELS[command["level"]],
        command["message"],
        link,
    )


def render_commands(commands: list[dict[str, Any]]) -> str:
    """Toasts become HTML; other commands travel as JSON for dashboards.js to run.

    Never raises: it runs after the handler's changes are kept, so a command that is not strict
    JSON (which ``JSON.parse`` would refuse, losing the frame's other commands) is left out, with
    an error toast in its place and a line in the platform's log.
    """
    parts = []
    scripted = []
    for command in commands:
        if command["type"] == CMD_TOAST:
            parts.append(render_toast(command))
            continue
        try:
            scripted.append(json.dumps(command, allow_nan=False))
        except (TypeError, ValueError, RecursionError) as error:
            logger.warning("command %s not sent: %s", command.get("type"), error)
            message = f"The app sent a command the browser cannot run ({command.get('type')})."
            parts.append(render_toast(toast_command("error", message)))
    if scripted:
        # An escaped attribute, not a <script>: htmx drops script elements from swapped content.
        parts.append(
            format_html(
                '<div id="dashboards-commands" hx-swap-oob="beforeend"><div class="dashboards-command" '
                'data-command="{}"></div></div>',
                "[" + ",".join(scripted) + "]",
            )
        )
    return "".join(parts)
