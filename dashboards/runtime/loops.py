"""One object per event loop: asyncio locks, semaphores and Redis clients belong to the loop that made them.

Daphne has one loop per process; the tests have one per test. ``per_loop(factory)`` gives a function
that returns the running loop's object, made on first use and dropped with the loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

from asgiref.sync import async_to_sync

T = TypeVar("T")

# Set by the HTTP pool (config/http.py) for each request: the loop of the server that received it.
server_loop: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar("dashboards_server_loop", default=None)


def per_loop(factory: Callable[[], T]) -> Callable[[], T]:
    made: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def current() -> T:
        loop = asyncio.get_running_loop()
        value = made.get(loop)
        if value is None:
            value = made[loop] = factory()
        return value

    return current


def run_from_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """From a request's thread, run ``coroutine`` on the server's loop and wait for its result.

    What runs app code from a page view goes through the executor, which lives on the loop (its
    per-release limits are the loop's). Without a server loop (Django's test client, a management
    command) asgiref runs it on a loop of its own.
    """
    loop = server_loop.get()
    if loop is None or loop.is_closed():
        return async_to_sync(_awaited)(coroutine)
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result()


async def _awaited(coroutine: Coroutine[Any, Any, T]) -> T:
    return await coroutine


def settle(future: asyncio.Future[T], value: T) -> None:
    """Give ``future`` its value unless it has one (or was cancelled): for ``call_soon_threadsafe``
    and timers, which may come after the waiter gave up."""
    if not future.done():
        future.set_result(value)
