"""Daphne's command line, on uvloop's event loop: ``python -m dashboards.config.daphne_server ARGS``.

Every frame a tab sends or receives passes through the event loop a few times (Twisted's reactor
runs on it, and Channels' queues, futures and tasks), so a faster loop is CPU saved per click;
docs/performance.md has the figures. Daphne makes its loop when ``daphne.server`` is imported, so
the loop's policy has to be chosen before that import, which is why this is a launcher and not a
setting. ``DASHBOARDS_EVENT_LOOP=asyncio`` keeps Python's own loop (to compare, or if uvloop ever
misbehaves); the arguments are Daphne's.

It also gives Daphne the platform's WebSocket size limits (``dashboards/runtime/limits.py``)
unless the command line sets them: every way of starting a web process (``make run``, the
Dockerfile, the Procfile) gets them from that one module; and a frame past them is answered with
a close frame (1009, which htmx does not retry) instead of a dropped connection (1006, retried).
The limits are on what browsers send: what the server sends is bounded by the session runtime
(``FRAME_MAX_BYTES``), which can undo a handler whose answer is too large and say so.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

logger = logging.getLogger(__name__)

EVENT_LOOPS = ("uvloop", "asyncio")


def configured_event_loop() -> str:
    """The loop this process's environment asks for (uvloop unless told otherwise)."""
    return os.environ.get("DASHBOARDS_EVENT_LOOP", EVENT_LOOPS[0])


def choose_event_loop(name: str) -> None:
    if name not in EVENT_LOOPS:
        raise SystemExit(f"DASHBOARDS_EVENT_LOOP must be one of {', '.join(EVENT_LOOPS)}, not {name!r}")
    if name == "uvloop":
        import uvloop  # noqa: PLC0415 - only the server process needs it

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def with_platform_limits(arguments: list[str]) -> list[str]:
    """Daphne's arguments with the WebSocket size limits added where the caller did not set them
    (Daphne's own defaults are 1 MiB messages and no frame limit: too much memory per socket)."""
    from dashboards.runtime.limits import (  # noqa: PLC0415 - a module of constants, no Django
        WEBSOCKET_MAX_FRAME_BYTES,
        WEBSOCKET_MAX_MESSAGE_BYTES,
    )

    limits = {
        "--websocket-max-message-size": WEBSOCKET_MAX_MESSAGE_BYTES,
        "--websocket-max-frame-size": WEBSOCKET_MAX_FRAME_BYTES,
        # Daphne closes every socket after a day (1000, which htmx does not retry): a dashboard on
        # a wall would go dead. Sockets end when the tab, the user's access or the process does.
        "--websocket_timeout": -1,
    }
    given = {argument.split("=", 1)[0] for argument in arguments}
    added = [item for option, value in limits.items() if option not in given for item in (option, str(value))]
    return [*added, *arguments]


def close_instead_of_dropping() -> None:
    """Autobahn drops the TCP connection of a socket it fails (a frame over the limit, invalid
    UTF-8) unless ``failByDrop`` is off: the browser then sees 1006 and reconnects to send the
    same frame again. Off, it sends the close code (1009, 1007) and drops the connection only if
    the close handshake is not answered in time; the rest of the oversized frame is not kept."""
    from daphne.ws_protocol import WebSocketFactory  # noqa: PLC0415 - after the loop's policy

    if getattr(WebSocketFactory, "_closes_cleanly", False):
        return
    make_factory = WebSocketFactory.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        make_factory(self, *args, **kwargs)
        self.setProtocolOptions(failByDrop=False)  # Daphne's own options come after: it keeps this

    WebSocketFactory.__init__ = init
    WebSocketFactory._closes_cleanly = True


def unsent_bytes(transport: Any) -> int:
    """What Twisted holds for a connection, written but not yet taken by the peer's socket."""
    buffered = getattr(transport, "dataBuffer", b"")
    return len(buffered) - getattr(transport, "offset", 0) + getattr(transport, "_tempDataLen", 0)


def limit_only_what_browsers_send() -> None:
    """Autobahn applies the message size limit to what the server sends as well: an answer over
    64 KiB (a table, a download) raised inside Daphne, and the tab went silent. The limit guards
    the server's memory from browsers; the server's own frames are bounded by the session runtime,
    which undoes a handler whose frame would pass ``FRAME_MAX_BYTES``. What a connection may hold
    unsent is bounded here: a browser that asks for large answers and does not read them (Twisted
    buffers whatever is written) is dropped past ``SEND_BACKLOG_MAX_BYTES``; it reconnects, if it
    is a browser, and its state comes back from Redis."""
    from daphne.ws_protocol import WebSocketProtocol  # noqa: PLC0415 - after the loop's policy

    from dashboards.runtime.limits import SEND_BACKLOG_MAX_BYTES  # noqa: PLC0415 - constants only

    if getattr(WebSocketProtocol, "_limits_only_incoming", False):
        return
    send_message = WebSocketProtocol.sendMessage

    def send_without_limit(self: Any, *args: Any, **kwargs: Any) -> Any:
        backlog = unsent_bytes(self.transport)
        if backlog > SEND_BACKLOG_MAX_BYTES:  # a browser that does not read what it is sent
            logger.warning("WebSocket %s: %d bytes unsent; dropped", self.transport.getPeer(), backlog)
            self.dropConnection(abort=True)
            return None
        limit = self.maxMessagePayloadSize
        self.maxMessagePayloadSize = 0  # Twisted's one thread: nothing reads it meanwhile
        try:
            return send_message(self, *args, **kwargs)
        finally:
            self.maxMessagePayloadSize = limit

    WebSocketProtocol.sendMessage = send_without_limit
    WebSocketProtocol._limits_only_incoming = True


def main() -> None:
    choose_event_loop(configured_event_loop())
    sys.argv[1:] = with_platform_limits(sys.argv[1:])
    close_instead_of_dropping()
    limit_only_what_browsers_send()
    from daphne.cli import CommandLineInterface  # noqa: PLC0415 - after the policy: Daphne makes its loop on import

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
