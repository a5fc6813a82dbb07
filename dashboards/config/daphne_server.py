"""Daphne's command line, on uvloop's event loop: ``python -m dashboards.config.daphne_server ARGS``.

Every frame a tab sends or receives passes through the event loop a few times (Twisted's reactor
runs on it, and Channels' queues, futures and tasks), so a faster loop is CPU saved per click;
docs/performance.md has the figures. Daphne makes its loop when ``daphne.server`` is imported, so
the loop's policy has to be chosen before that import, which is why this is a launcher and not a
setting. ``DASHBOARDS_EVENT_LOOP=asyncio`` keeps Python's own loop (to compare, or if uvloop ever
misbehaves); the arguments are Daphne's.

It also gives Daphne the platform's WebSocket size limits (``dashboards/runtime/limits.py``)
unless the command line sets them: every way of starting a web process (``make run``, the
Dockerfile, the Procfile) gets them from that one module.
"""

from __future__ import annotations

import asyncio
import os
import sys

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
    }
    given = {argument.split("=", 1)[0] for argument in arguments}
    added = [item for option, value in limits.items() if option not in given for item in (option, str(value))]
    return [*added, *arguments]


def main() -> None:
    choose_event_loop(configured_event_loop())
    sys.argv[1:] = with_platform_limits(sys.argv[1:])
    from daphne.cli import CommandLineInterface  # noqa: PLC0415 - after the policy: Daphne makes its loop on import

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
