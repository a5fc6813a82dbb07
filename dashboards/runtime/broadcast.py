"""Sending to channel-layer groups from synchronous code, as a hint that may be lost.

A broadcast is at most once: Redis may be down or restarting, a full channel drops messages. A
failed broadcast is logged and never fails the write that caused it; the database is the truth.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)
WARN_EVERY_SECONDS = 60.0
_last_warning = 0.0


_paused = False


@contextlib.contextmanager
def broadcasts_paused() -> Iterator[None]:
    """For a command run while no platform process can listen (``make run`` seeds the demo before
    it starts Redis): its writes announce nothing, instead of a warning that looks like a fault."""
    global _paused  # noqa: PLW0603 - one switch per process
    _paused = True
    try:
        yield
    finally:
        _paused = False


def broadcast(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None or _paused:
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
