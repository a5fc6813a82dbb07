"""Daphne's command line, on uvloop's event loop: ``python -m dashboards.config.daphne_server ARGS``.

Every frame a tab sends or receives passes through the event loop a few times (Twisted's reactor
runs on it, and Channels' queues, futures and tasks), so a faster loop is CPU saved per click;
docs/performance.md has the figures. Daphne makes its loop when ``daphne.server`` is imported, so
the loop's policy has to be chosen before that import, which is why this is a launcher and not a
setting. ``DASHBOARDS_EVENT_LOOP=asyncio`` keeps Python's own loop (to compare, or if uvloop ever
misbehaves); the arguments are Daphne's.
"""

from __future__ import annotations

import asyncio
import os

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


def main() -> None:
    choose_event_loop(configured_event_loop())
    from daphne.cli import CommandLineInterface  # noqa: PLC0415 - after the policy: Daphne makes its loop on import

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
