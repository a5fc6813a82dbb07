"""Every limit of the session runtime, named once. Each says what it guards."""

from __future__ import annotations

# Largest WebSocket message and frame Daphne accepts from a browser. Guards memory: before
# Daphne 4.2.2 there was no frame limit and one client could exhaust a server's memory.
WEBSOCKET_MAX_MESSAGE_BYTES = 64 * 1024
WEBSOCKET_MAX_FRAME_BYTES = 64 * 1024
