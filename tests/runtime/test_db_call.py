"""db_call: ORM calls from async code on the db-call threads, which keep their connections."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction

from dashboards.runtime import db
from dashboards.runtime.context import current_app_context
from dashboards.runtime.db import db_call, db_pool_close
from dashboards.tenancy.models import Tenant

# The pool's threads have connections of their own: the rows they see must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

probe: contextvars.ContextVar[str] = contextvars.ContextVar("probe", default="unset")


@pytest.fixture
def pool_of(settings):
    """Sets the pool's size for this test; the default pool again after."""

    def resize(threads: int) -> None:
        db_pool_close()
        settings.DB_CALL_THREADS = threads

    yield resize
    db_pool_close()


@pytest.fixture
def one_thread(pool_of) -> None:
    """Consecutive calls share the one thread."""
    pool_of(1)


def where() -> tuple[str, Any]:
    """The thread's name and its DB-API connection, after one query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return threading.current_thread().name, connection.connection


def is_closed(raw: Any) -> bool:
    try:
        raw.execute("SELECT 1")
    except Exception:
        return True
    return False


async def test_a_thread_keeps_its_connection_from_one_call_to_the_next(one_thread) -> None:
    name, first = await db_call(where)()
    assert name.startswith("db-call")
    assert (await db_call(where)())[1] is first
    assert not is_closed(first)


async def test_each_thread_of_the_default_pool_keeps_one_connection() -> None:
    db_pool_close()
    seen: dict[str, set[int]] = {}
    raws = []  # held, so that no id is reused
    for _ in range(2 * db.DB_CALL_THREADS + 1):
        name, raw = await db_call(where)()
        raws.append(raw)
        seen.setdefault(name, set()).add(id(raw))
    assert 1 <= len(seen) <= db.DB_CALL_THREADS
    assert all(len(ids) == 1 for ids in seen.values())


async def test_a_connection_past_its_age_is_replaced(one_thread, monkeypatch) -> None:
    monkeypatch.setattr(db, "DB_CALL_CONN_MAX_AGE_SECONDS", 0.0)
    _, first = await db_call(where)()
    _, second = await db_call(where)()
    assert second is not first
    assert is_closed(first)


async def test_context_variables_reach_the_call_and_come_back(one_thread) -> None:
    app_context = object()
    token = current_app_context.set(app_context)  # what the SDK's functions look up
    try:
        assert await db_call(current_app_context.get)() is app_context
    finally:
        current_app_context.reset(token)
    await db_call(probe.set)("set in the call")  # sync_to_async's semantics
    assert probe.get() == "set in the call"


async def test_an_exception_reaches_the_caller_unchanged(one_thread) -> None:
    error = ValueError("on purpose")

    def fail() -> None:
        raise error

    with pytest.raises(ValueError) as caught:
        await db_call(fail)()
    assert caught.value is error


async def test_after_a_database_error_the_connection_is_checked_and_kept(one_thread) -> None:
    def bad_query() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    _, first = await db_call(where)()
    with pytest.raises(DatabaseError):
        await db_call(bad_query)()
    assert (await db_call(where)())[1] is first


async def test_a_transaction_left_open_is_rolled_back_and_the_next_call_starts_clean(
    one_thread, caplog
) -> None:
    def leave_open() -> Any:
        transaction.atomic().__enter__()  # never exited: a bug in the called code
        Tenant.objects.create(slug="left-open", name="Left open")
        return connection.connection

    def next_call() -> tuple[bool, bool, Any]:
        Tenant.objects.create(slug="after", name="After")  # the database is not locked
        return (
            connection.in_atomic_block,
            Tenant.objects.filter(slug="left-open").exists(),
            connection.connection,
        )

    with caplog.at_level(logging.ERROR, logger="dashboards.runtime.db"):
        raw = await db_call(leave_open)()
    assert "leave_open left a transaction open" in caplog.text
    in_atomic_block, kept, next_raw = await db_call(next_call)()
    assert not in_atomic_block and not kept
    assert next_raw is not raw and is_closed(raw)


async def test_db_pool_close_closes_the_connection_of_every_thread(pool_of) -> None:
    pool_of(2)
    both_busy = threading.Barrier(2, timeout=5)

    def open_one() -> tuple[Any, Any]:
        where()
        both_busy.wait()  # two calls at once: one on each thread
        return connections["default"], connection.connection

    opened = await asyncio.gather(db_call(open_one)(), db_call(open_one)())
    assert db_pool_close() is True
    for wrapper, raw in opened:
        assert wrapper.connection is None and is_closed(raw)
    assert not is_closed((await db_call(where)())[1])  # a later call gets a new pool


async def test_a_thread_busy_at_db_pool_close_closes_its_connection_when_its_call_ends(one_thread) -> None:
    started, release = threading.Event(), threading.Event()

    def busy() -> Any:
        where()
        started.set()
        release.wait(5)
        return connection.connection

    call = asyncio.ensure_future(db_call(busy)())
    assert await asyncio.to_thread(started.wait, 5)
    assert await asyncio.to_thread(db_pool_close, 0.2) is False
    release.set()
    assert is_closed(await call)
