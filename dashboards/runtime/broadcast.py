"""Sending to channel-layer groups from synchronous code, as a hint that may be lost.

A broadcast is at most once: Redis may be down or restarting, a full channel drops messages. A
failed broadcast is logged and never fails the write that caused it; the database is the truth.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def broadcast(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception as error:  # Redis unreachable, channel full...
        logger.warning("broadcast to %s lost: %s: %s", group, type(error).__name__, error)
