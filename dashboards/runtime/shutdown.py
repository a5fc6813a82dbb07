"""On SIGTERM, close every open tab of this process with 1012 so browsers reconnect elsewhere.

Daphne runs on Twisted's asyncio reactor; a "before shutdown" trigger runs while the loop still
turns, before Daphne cancels its application instances. The session snapshots still pending are
written before the process stops (see snapshots.py), and the ``db-call`` and HTTP threads close
their database connections (see db.py and config/http.py).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import weakref
from collections.abc import Callable
from typing import Any

from dashboards.runtime.protocol import CLOSE_SERVICE_RESTART

logger = logging.getLogger(__name__)
CLOSE_WAIT_SECONDS = 2.0
_open_tabs: weakref.WeakSet[Any] = weakref.WeakSet()
_closers: list[Callable[[], Any]] = []
_installed = False


def track(consumer: Any) -> None:
    _open_tabs.add(consumer)


def forget(consumer: Any) -> None:
    _open_tabs.discard(consumer)


async def close_all_tabs(code: int = CLOSE_SERVICE_RESTART) -> int:
    from dashboards.runtime.snapshots import snapshot_flush  # noqa: PLC0415 - Redis client on demand

    tabs = list(_open_tabs)
    if tabs:
        await asyncio.wait(
            [asyncio.ensure_future(tab.close(code)) for tab in tabs], timeout=CLOSE_WAIT_SECONDS
        )
    try:
        await asyncio.wait_for(snapshot_flush(), CLOSE_WAIT_SECONDS)
    except Exception as error:
        logger.warning("shutting down: pending session snapshots not saved (%s)", error)
    return len(tabs)


async def _leave_groups(memberships: list[tuple[str, str]]) -> None:
    """Every group the process's sockets and hub sat in. Daphne cancels its consumers before their
    disconnect runs: their memberships stayed in Redis for a day (channels-redis's group expiry),
    and every event, toast and job report was still sent to their dead channels."""
    from channels.layers import get_channel_layer  # noqa: PLC0415

    from dashboards.runtime.groups import groups_leave  # noqa: PLC0415

    layer = get_channel_layer()
    if not memberships or layer is None:
        return
    try:
        await asyncio.wait_for(groups_leave(layer, memberships), CLOSE_WAIT_SECONDS)
    except Exception as error:
        logger.warning("shutting down: group memberships not left (%s); they expire in a day", error)


def close_at_shutdown(close: Callable[[], Any]) -> None:
    """Something of the process to close after the tabs (blocking calls are fine: on a thread)."""
    _closers.append(close)


async def shut_down() -> None:
    from dashboards.events.hub import get_hub  # noqa: PLC0415 - imports Django

    held = get_hub().memberships_held()  # before the tabs close: each forgets its own as it goes
    await close_all_tabs()
    await _leave_groups(held)
    from dashboards.runtime.db import db_pool_close  # noqa: PLC0415 - imports Django

    closers: list[Callable[[], Any]] = [db_pool_close, *_closers]
    for close in closers:  # each blocks until its threads have closed their own
        try:
            await asyncio.to_thread(close)
        except Exception:
            logger.exception("shutting down: %r failed", close)


def install_shutdown_hook() -> None:
    """Only under Daphne, whose reactor is installed: importing it elsewhere would install one."""
    global _installed  # noqa: PLW0603 - once per process
    if _installed or "twisted.internet.reactor" not in sys.modules:
        return
    from twisted.internet import defer, reactor  # noqa: PLC0415 - see above

    def before_shutdown() -> Any:
        logger.info("shutting down: closing %d open tabs with %d", len(_open_tabs), CLOSE_SERVICE_RESTART)
        return defer.Deferred.fromFuture(asyncio.ensure_future(shut_down()))

    reactor.addSystemEventTrigger("before", "shutdown", before_shutdown)  # type: ignore[arg-type]
    _installed = True
