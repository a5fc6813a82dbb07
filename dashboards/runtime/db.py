"""ORM calls from async code: off the event loop, on a small pool whose threads keep their connections.

Opening a connection costs about 1 ms on SQLite and 6 to 7 ms on PostgreSQL, and every socket
connect and many events make such a call, so the ``db-call`` threads keep theirs the way Django's
request cycle does with ``CONN_MAX_AGE``: before and after each call a thread drops a connection
that is past its age or broken by an error (Django's own ``close_if_unusable_or_obsolete``), and
checks a kept one before its first query (a connection the server dropped is replaced, not failed).
A call that leaves a transaction open has it rolled back and its connection dropped, so the next
call on that thread starts clean.

Only the connections of these threads and of the HTTP pool's (``config/http.py``, marked with
``keep_connections_on_this_thread``) get an age (``connection_created``): ``DATABASES`` keeps
``CONN_MAX_AGE`` at 0, so any other thread (a worker's, a management command's) keeps none.
Calls keep ``sync_to_async``'s semantics: context variables copied in (and back), exceptions
unchanged. A connection can be closed only by its own thread, so ``db_pool_close`` has each
thread close its own.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from dashboards.runtime.limits import DB_CALL_CONN_MAX_AGE_SECONDS, DB_CALL_THREADS

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger(__name__)
THREAD_NAME_PREFIX = "db-call"
CLOSE_WAIT_SECONDS = 5.0


class _Pool:
    """The executor, and whether it is closing: its threads then close their connections after each call."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.closing = False
        self.executor = ThreadPoolExecutor(
            size, thread_name_prefix=THREAD_NAME_PREFIX, initializer=self._enter
        )

    def _enter(self) -> None:
        _this_thread.pool = self


_pool: _Pool | None = None
_pool_lock = threading.Lock()
_this_thread = threading.local()  # ``pool`` is set on the pool's threads only


def db_call(function: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``function`` as a coroutine function that runs it on a pool thread (the pool found per call)."""

    @functools.wraps(function)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        run = sync_to_async(_run, thread_sensitive=False, executor=_current_pool().executor)
        return await run(function, *args, **kwargs)

    return call


def db_pool_close(timeout: float = CLOSE_WAIT_SECONDS) -> bool:
    """Close every pool thread's connections, each on its own thread, and stop the pool.

    One task per thread, held at a barrier until every thread has taken one. Waits up to about
    ``timeout``; False if a thread was still busy then (it closes its connections when its call
    ends). A later ``db_call`` starts a new pool.
    """
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is None:
        return True
    pool.closing = True
    closed = close_on_each_thread(pool.executor, pool.size, timeout)
    if closed < pool.size:
        busy = pool.size - closed
        logger.warning(
            "db-call pool: %d of %d threads busy; each closes its connections when done", busy, pool.size
        )
        return False
    pool.executor.shutdown(wait=True)  # the threads are leaving: join them
    return True


def close_on_each_thread(
    executor: ThreadPoolExecutor, size: int, timeout: float, *, stop: bool = True
) -> int:
    """Have each of the executor's ``size`` threads close its own connections, then (``stop``)
    stop taking work; without ``stop`` a later call opens a new connection.

    Only a connection's own thread may close it: one task per thread, held at a barrier until
    every thread has taken one. Waits up to about ``timeout``; returns how many threads closed
    theirs by then (a busy one closes its connections when its call ends).
    """
    barrier = threading.Barrier(size)
    closed: set[int] = set()

    def close_own() -> None:
        try:
            barrier.wait(timeout)
        except threading.BrokenBarrierError:
            pass  # a thread is busy: close this one's all the same
        finally:
            _close_all()
            closed.add(threading.get_ident())

    futures = [executor.submit(close_own) for _ in range(size)]
    if stop:
        executor.shutdown(wait=False)  # no new calls; the tasks above still run
    wait(futures, timeout=timeout + 1)
    return len(closed)


def close_idle_connections() -> None:
    """Close this thread's database connections, unless a transaction still holds one.

    For threads that must not keep connections (the emitter's pool); ``db_call``'s keep theirs.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def _current_pool() -> _Pool:
    global _pool  # noqa: PLW0603 - one pool per process
    pool = _pool
    if pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = _Pool(int(getattr(settings, "DB_CALL_THREADS", DB_CALL_THREADS)))
            pool = _pool
    return pool


def _run(function: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    _close_unusable_or_obsolete()
    try:
        return function(*args, **kwargs)
    finally:
        _close_unusable_or_obsolete(after=function)
        if _this_thread.pool.closing:
            _close_all()


def _close_unusable_or_obsolete(after: Callable[..., Any] | None = None) -> None:
    """What Django does at a request's start and end, and a transaction left open by a call undone.

    Never raises: the call's own result or exception is what its caller gets.
    """
    for connection in connections.all(initialized_only=True):
        if after is not None and connection.in_atomic_block:
            name = getattr(after, "__qualname__", after)
            logger.error(
                "%s left a transaction open on %r: rolled back, connection closed", name, connection.alias
            )
            _drop(connection)
            continue
        try:
            connection.close_if_unusable_or_obsolete()
        except Exception as error:  # it cannot even be checked: start afresh
            logger.warning(
                "database %r: connection dropped (%s: %s)", connection.alias, type(error).__name__, error
            )
            _drop(connection)


def _close_all() -> None:
    for connection in connections.all(initialized_only=True):
        _drop(connection)


def _drop(connection: BaseDatabaseWrapper) -> None:
    """Roll back, close and forget this thread's wrapper (closed in an atomic block, it never reconnects)."""
    raw = connection.connection
    if connection.in_atomic_block and raw is not None:
        with contextlib.suppress(Exception):
            raw.rollback()  # the driver's own: Django refuses inside an atomic block
    with contextlib.suppress(Exception):
        connection.close()
    with contextlib.suppress(AttributeError):
        del connections[connection.alias]


def keep_connections_on_this_thread() -> None:
    """From now on this thread's new connections are kept and checked as a pool thread's are.

    For long-lived threads that serve one call after another (the HTTP pool's, as their
    initializer); Django's request cycle then drops a connection past its age or broken, as it
    does with CONN_MAX_AGE.
    """
    _this_thread.keeps_connections = True


def _keep_open(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """On a pool thread, a new connection is kept DB_CALL_CONN_MAX_AGE_SECONDS and checked before reuse."""
    if getattr(_this_thread, "pool", None) is not None or getattr(_this_thread, "keeps_connections", False):
        connection.close_at = time.monotonic() + DB_CALL_CONN_MAX_AGE_SECONDS
        connection.health_check_enabled = True  # type: ignore[attr-defined]  # Django 5.1+, not in the stubs


connection_created.connect(_keep_open, dispatch_uid="dashboards.runtime.db.keep_open")
