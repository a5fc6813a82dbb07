"""One object per event loop: asyncio locks, semaphores and Redis clients belong to the loop that made them.

Daphne has one loop per process; the tests have one per test. ``per_loop(factory)`` gives a function
that returns the running loop's object, made on first use and dropped with the loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def per_loop(factory: Callable[[], T]) -> Callable[[], T]:
    made: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def current() -> T:
        loop = asyncio.get_running_loop()
        value = made.get(loop)
        if value is None:
            value = made[loop] = factory()
        return value

    return current
