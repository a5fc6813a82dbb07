"""ORM calls from async code: off the event loop, on a pool thread, the connection closed after.

Channels' ``database_sync_to_async`` runs every call of a process on one shared thread unless told
otherwise, and its connection clean-up does not reach connections opened on pool threads: they
stayed open until garbage-collected. Here each call closes what it opened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connections

P = ParamSpec("P")
R = TypeVar("R")


def close_idle_connections() -> None:
    """Close this thread's database connections, unless a transaction still holds one."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def db_call(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    def run(*args: Any, **kwargs: Any) -> R:
        try:
            return function(*args, **kwargs)
        finally:
            close_idle_connections()

    return sync_to_async(run, thread_sensitive=False)  # type: ignore[return-value]
