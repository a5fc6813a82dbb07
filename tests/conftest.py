"""Test infrastructure: a real Redis for every test process, and the demo world as a fixture.

Without REDIS_URL, the session starts the embedded Redis (the same binary `make run` uses) in a
temporary folder; with REDIS_URL (CI's second pass), that server is used. Each xdist worker gets
a database index of its own, flushed by the ``redis_client`` fixture.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from dashboards.config.environment import redis_settings
from dashboards.ops.embedded_redis import EmbeddedRedis

EMBEDDED_FLAG = "DASHBOARDS_TESTS_EMBEDDED_REDIS"


def _worker_index(config: pytest.Config) -> int:
    workerinput = getattr(config, "workerinput", None)
    return int(workerinput["workerid"].removeprefix("gw")) if workerinput else 0


def worker_redis_url(base_url: str, index: int) -> str:
    """The base URL with a database index of this worker's own (counting down from the base)."""
    parts = urlsplit(base_url)
    if parts.scheme == "unix":
        query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
        base_db = int(query.get("db", 0))
        query["db"] = str(base_db - index if base_db >= index else base_db + index)
        return f"unix://{parts.path}?" + "&".join(f"{k}={v}" for k, v in query.items())
    base_db = int(parts.path.strip("/") or 0)
    db = base_db - index if base_db >= index else base_db + index
    return urlunsplit(parts._replace(path=f"/{db}"))


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    if not hasattr(config, "workerinput") and not os.environ.get("REDIS_URL"):
        server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="dash-redis-")))
        server.start()
        config.stash[_server_key] = server
        os.environ["REDIS_URL"] = server.url  # xdist workers start after this and inherit it
        os.environ[EMBEDDED_FLAG] = "1"
    for name, value in redis_settings(
        worker_redis_url(os.environ["REDIS_URL"], _worker_index(config))
    ).items():
        setattr(settings, name, value)
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        # A file, not memory: job tests run a real RQ worker process, which must see the same data.
        database.setdefault("TEST", {})["NAME"] = str(
            Path(tempfile.mkdtemp(prefix="dash-db-")) / "test.sqlite3"
        )
    # Hashing demo passwords at full strength costs seconds per test run and proves nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


_server_key = pytest.StashKey[EmbeddedRedis]()


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_server_key, None)
    if server is not None:
        server.stop()


def redis_is_embedded() -> bool:
    return os.environ.get(EMBEDDED_FLAG) == "1"


@pytest.fixture(autouse=True)
def fresh_channel_layer() -> Iterator[None]:
    """Each test gets a channel layer of its own, as each server process has one.

    channels-redis keeps its receive state (a count, a lock, the loop that holds it) on the layer
    object, and every test runs on an event loop of its own: a receive left waiting by one test's
    sockets when its loop ended made a later test's receives fail with "Lock ... is bound to a
    different event loop" (seen in about one full run in three). The layer's connections belong
    to the loops that used them and are closed with those loops.
    """
    from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

    if DEFAULT_CHANNEL_LAYER in channel_layers:
        channel_layers.set(DEFAULT_CHANNEL_LAYER, channel_layers.make_backend(DEFAULT_CHANNEL_LAYER))
    yield


@pytest.fixture(autouse=True)
def forget_loaded_releases() -> Iterator[None]:
    """Releases a test loads into this process's executor are dropped after it.

    The executor keeps loaded releases by id, and the ids of a rolled-back test's rows are handed
    out again: a later test's release would have found the earlier one's code already loaded
    under its id (the broken-app test failed that way after a test that loaded a release).
    """
    from dashboards.runtime.executor import InProcessExecutor, get_executor
    from dashboards.runtime.services import residency

    executor = get_executor()
    before = executor.loaded_keys() if isinstance(executor, InProcessExecutor) else set()
    yield
    if isinstance(executor, InProcessExecutor):
        for key in executor.loaded_keys() - before:
            residency.unload_now(key)  # its code, its compiled page, its bookkeeping


@pytest.fixture
def redis_client(settings) -> Iterator[redis.Redis]:
    """This worker's Redis database, empty at the start of the test."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.close()


@dataclass
class DemoWorld:
    """The seeded demo data, looked up once, for readable tests."""

    acme: object
    globex: object
    users: dict[str, object]

    def __getattr__(self, name: str) -> object:
        try:
            return self.users[name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The demo world is seeded once per test database; each test's transaction is rolled back.

    At the end, the ``db_call`` threads close their connections, and PostgreSQL sessions still
    open on the test database (a job worker's, another pool thread's) are ended, so that the
    database can be dropped.
    """
    from django.db import connection

    from dashboards.ops.demo import seed_demo
    from dashboards.runtime.db import db_pool_close

    with django_db_blocker.unblock():
        seed_demo()
    yield
    with django_db_blocker.unblock():
        db_pool_close()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


def _world() -> DemoWorld:
    from django.contrib.auth import get_user_model

    from dashboards.ops.demo import seed_demo
    from dashboards.tenancy.models import Tenant

    if not Tenant.objects.filter(slug="acme").exists():  # a transactional test flushed it
        seed_demo()
    users = {user.username: user for user in get_user_model().objects.all()}
    return DemoWorld(
        acme=Tenant.objects.get(slug="acme"), globex=Tenant.objects.get(slug="globex"), users=users
    )


@pytest.fixture
def world(db) -> DemoWorld:
    """The demo data, inside the test's transaction."""
    return _world()


@pytest.fixture
def live_world(transactional_db, redis_client) -> DemoWorld:
    """The demo data, committed, for tests whose code runs in other threads (consumers)."""
    return _world()


class TableReads:
    """Statements run from now on, on every thread: a consumer's queries run on a pool of their own,
    out of reach of ``CaptureQueriesContext`` (which sees one connection)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def clear(self) -> None:
        self.statements.clear()

    def __call__(self, *tables: str) -> dict[str, int]:
        """How many statements read each of ``tables``."""
        return {table: sum(f'FROM "{table}"' in sql for sql in self.statements) for table in tables}


@pytest.fixture
def table_reads(monkeypatch: pytest.MonkeyPatch) -> TableReads:
    from django.db.backends import utils

    reads = TableReads()
    execute = utils.CursorWrapper.execute

    def counted(self, sql, params=None):  # type: ignore[no-untyped-def]
        reads.statements.append(sql)
        return execute(self, sql, params)

    monkeypatch.setattr(utils.CursorWrapper, "execute", counted)
    return reads
