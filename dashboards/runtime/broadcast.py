"""Sending to channel-layer groups from synchronous code, as a hint that may be lost.

A broadcast is at most once: Redis may be down or restarting, a full channel drops messages. A
failed broadcast is logged and never fails the write that caused it; the database is the truth.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)
WARN_EVERY_SECONDS = 60.0
_last_warning = 0.0


def broadcast(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception as error:  # Redis unreachable, channel full...
        _log_loss(group, error)


def _log_loss(group: str, error: Exception) -> None:
    """A warning at most once a minute (Redis down means every write loses its broadcast)."""
    global _last_warning  # noqa: PLW0603 - one rate limit per process
    now = time.monotonic()
    level = logging.WARNING if now - _last_warning >= WARN_EVERY_SECONDS else logging.DEBUG
    if level == logging.WARNING:
        _last_warning = now
    logger.log(
        level, "broadcast to %s lost (%s: %s); pages re-read the database", group, type(error).__name__, error
    )
