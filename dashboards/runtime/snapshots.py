"""Session state kept in Redis, so a reload, a dropped connection or a new Daphne process restores it.

One hash per tab session; after each event only the mutated keys are written. The key carries the
tenant, the app and the owner (user), so a session id alone never opens another user's state.

Writes do not hold up the frame: ``snapshot_save`` hands the changed keys to the process's
``SnapshotWriter``, which writes everything pending in a few calls of one Lua script, at most once
per SNAPSHOT_WRITE_DELAY_SECONDS. A change after a quiet interval goes out right behind its frame,
a millisecond later, while the process is still warm from it (waking it again a whole interval
later cost more CPU than the write itself, measured); changes that come while a write is in
flight or within the interval after it wait for the interval's end and go together. So a click
costs no Redis round trip before its answer, clicks back to back cost one write per interval, and
one event that changes a thousand tabs costs a handful of script calls, not a thousand. Newer
values replace older pending ones; a load (a reload, a reconnect) has the pending writes made at
once and waits for them; a server that shuts down writes them before it stops. What a crash loses
is the changes of the last interval, which the tabs then redo.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import redis
import redis.asyncio as aioredis
from django.conf import settings

from dashboards.runtime import codecs
from dashboards.runtime.limits import SNAPSHOT_IDLE_SECONDS, SNAPSHOT_WRITE_DELAY_SECONDS
from dashboards.runtime.loops import per_loop, settle

logger = logging.getLogger(__name__)
META_FIELD = "__release__"
SNAPSHOT_CONNECTIONS = 64  # per event loop (per server process)
SNAPSHOT_CONNECTION_WAIT_SECONDS = 10
# A change after a quiet interval waits this long, not the interval: the frame it belongs to is
# written out by the loop's next poll (Twisted writes when the socket is writable), and a script
# call made before that poll would hold the frame up (measured: +0.2 ms p50 with pauses).
SNAPSHOT_BEHIND_FRAME_SECONDS = 0.001


@dataclass(frozen=True)
class SnapshotKey:
    tenant_id: int
    app_id: int
    owner: str  # "u<user id>" or "link:<digest>"
    session_id: str

    @property
    def redis_key(self) -> str:
        return f"dashboards:state:{self.tenant_id}:{self.app_id}:{self.owner}:{self.session_id}"


def _new_client() -> aioredis.Redis:
    # Blocking: a thousand tabs reconnecting at once wait for a connection instead of failing
    # (redis-py 8's plain pool raises "Too many connections" past its size).
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.REDIS_URL, max_connections=SNAPSHOT_CONNECTIONS, timeout=SNAPSHOT_CONNECTION_WAIT_SECONDS
    )
    return aioredis.Redis(connection_pool=pool)


#: This event loop's asyncio Redis client (snapshots, claims of job deliveries).
loop_client = per_loop(_new_client)


class SnapshotWriter:
    """The pending snapshot writes of one event loop, written together."""

    def __init__(self) -> None:
        # redis key -> (release, values to set, fields to delete, ttl): the newest of each wins
        self.pending: dict[str, tuple[str, dict[str, str], set[str], int]] = {}
        self.task: asyncio.Task[None] | None = None
        self.due: asyncio.Future[None] | None = None  # resolved when the waiting writes are due
        self.quiet_from = 0.0  # the loop's time from which a change is written at once
        self.draining = 0  # callers of drain(): no interval is waited out meanwhile

    def schedule(
        self, key: SnapshotKey, release: str, encoded: dict[str, str], deleted: set[str], ttl: int
    ) -> None:
        _, values, gone, _ = self.pending.get(key.redis_key, (release, {}, set(), ttl))
        for field in deleted:
            values.pop(field, None)
        gone = (gone - set(encoded)) | set(deleted)
        self.pending[key.redis_key] = (release, {**values, **encoded}, gone, ttl)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._write_all())

    async def _wait(self) -> None:
        """Until the interval since the last write is over and the frame is out; not while draining."""
        loop = asyncio.get_running_loop()
        self.due = due = loop.create_future()
        timer = loop.call_at(
            max(self.quiet_from, loop.time() + SNAPSHOT_BEHIND_FRAME_SECONDS), settle, due, None
        )
        try:
            if not self.draining:
                await due  # more changes join the batch meanwhile
        finally:
            timer.cancel()

    async def _write_all(self) -> None:
        loop = asyncio.get_running_loop()
        await self._wait()
        while self.pending:
            batch, self.pending = self.pending, {}
            items = list(batch.items())
            try:
                for start in range(0, len(items), SNAPSHOTS_PER_SCRIPT):
                    await _write_chunk(items[start : start + SNAPSHOTS_PER_SCRIPT])
            except Exception as error:  # Redis away: the tabs keep their state in memory meanwhile
                logger.warning(
                    "%d session snapshots not saved (%s: %s)", len(batch), type(error).__name__, error
                )
            self.quiet_from = loop.time() + SNAPSHOT_WRITE_DELAY_SECONDS
            if self.pending:  # changes made while writing: the next write waits for the interval
                await self._wait()

    async def drain(self) -> None:
        """Write what is pending now (not at the end of the interval) and wait until it is written."""
        self.draining += 1
        try:
            while self.task is not None and not self.task.done():
                if self.due is not None:
                    settle(self.due, None)
                await asyncio.shield(self.task)
        finally:
            self.draining -= 1


_writer = per_loop(SnapshotWriter)
SNAPSHOTS_PER_SCRIPT = 250
# One call writes many sessions: for each hash, its expiry and how many fields it sets and drops,
# then those fields. A thousand tabs changed by one event cost a few calls, not 2,000 commands
# (redis-py spends more time packing and parsing them than Redis spends running them).
WRITE_SCRIPT = """
local i = 1
for k = 1, #KEYS do
  local ttl, set_count, drop_count = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  i = i + 3
  for first = i, i + 2 * set_count - 1, 200 do
    redis.call('HSET', KEYS[k], unpack(ARGV, first, math.min(first + 199, i + 2 * set_count - 1)))
  end
  i = i + 2 * set_count
  for first = i, i + drop_count - 1, 200 do
    redis.call('HDEL', KEYS[k], unpack(ARGV, first, math.min(first + 199, i + drop_count - 1)))
  end
  i = i + drop_count
  redis.call('EXPIRE', KEYS[k], ttl)
end
return #KEYS
"""
_write_script = per_loop(lambda: loop_client().register_script(WRITE_SCRIPT))


async def _write_chunk(items: list[tuple[str, tuple[str, dict[str, str], set[str], int]]]) -> None:
    try:
        keys, args = _script_arguments(items)
        await _write_script()(keys=keys, args=args)
    except (UnicodeEncodeError, redis.DataError):  # refused before anything was sent
        if len(items) == 1:
            raise
        for item in items:  # one session's field that is not text: the others are written all the same
            try:
                await _write_chunk([item])
            except (UnicodeEncodeError, redis.DataError) as error:
                logger.warning("session snapshot %s not saved (%s: %s)", item[0], type(error).__name__, error)


def _script_arguments(
    items: list[tuple[str, tuple[str, dict[str, str], set[str], int]]],
) -> tuple[list[str], list[str | int]]:
    keys: list[str] = []
    args: list[str | int] = []
    for redis_key, (release, values, gone, ttl) in items:
        fields = {META_FIELD: release, **values}
        keys.append(redis_key)
        args += [ttl, len(fields), len(gone)]
        for field, value in fields.items():
            args += [field, value]
        args += sorted(gone)
    return keys, args


async def snapshot_flush() -> None:
    """Wait until every pending write of this process is in Redis (shutdown, loads, tests)."""
    await _writer().drain()


class Snapshot(NamedTuple):
    """A saved session as read back: its release, its values, the encoded size of each, and the
    keys whose saved text could not be decoded (left out of the values, and logged)."""

    release: str | None
    values: dict[str, Any]
    sizes: dict[str, int]
    undecodable: frozenset[str]


async def snapshot_load(key: SnapshotKey) -> Snapshot | None:
    """The saved session, or None. Never raises for what it finds: a value that does not decode
    (written by hand, damaged, or by a codec that has since changed) is left out and logged, so
    the key starts again from the app's ``initial_state`` and the tab opens all the same."""
    await snapshot_flush()
    try:
        raw = cast("dict[bytes, bytes]", await loop_client().hgetall(key.redis_key))
    except redis.ResponseError as error:  # not a hash: nothing of it can be restored
        if not str(error).startswith("WRONGTYPE"):
            raise
        logger.warning("session snapshot %s is not a hash; the session starts afresh", key.redis_key)
        return None
    if not raw:
        return None
    release = raw.pop(META_FIELD.encode(), b"").decode(errors="replace") or None
    values: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    undecodable: set[str] = set()
    for field_bytes, text in raw.items():
        try:
            field = field_bytes.decode()
        except UnicodeDecodeError:  # no state key is written so: nothing reads or writes it again
            logger.warning(
                "session snapshot %s: field %r is not a state key; ignored", key.redis_key, field_bytes
            )
            continue
        try:
            values[field] = codecs.decode(text)
        except Exception as error:
            undecodable.add(field)
            logger.warning(
                "session snapshot %s: state key %r cannot be restored (%s: %s); "
                "it starts again from the app's initial state",
                key.redis_key,
                field,
                type(error).__name__,
                str(error)[:200],
            )
            continue
        sizes[field] = len(text)
    return Snapshot(release, values, sizes, frozenset(undecodable))


async def snapshot_save(
    key: SnapshotKey,
    *,
    release: str,
    encoded: dict[str, str],
    deleted: AbstractSet[str] = frozenset(),
    ttl: int = SNAPSHOT_IDLE_SECONDS,
) -> None:
    """Write the given (already encoded) keys, drop deleted ones, and push the expiry back, soon.

    No MULTI: each command is atomic on its own and a torn write can only leave an older value of
    a key, which the next write replaces. Returns at once (see the module's docstring).
    """
    _writer().schedule(key, release, dict(encoded), set(deleted), ttl)


async def snapshot_replace(key: SnapshotKey, *, release: str, encoded: dict[str, str], ttl: int) -> None:
    await snapshot_flush()  # an older pending write must not land on top of the new state
    pipe = loop_client().pipeline(transaction=True)
    pipe.delete(key.redis_key)
    pipe.hset(key.redis_key, mapping={META_FIELD: release, **encoded})  # type: ignore[dict-item]
    pipe.expire(key.redis_key, ttl)
    await pipe.execute()


_sync_client: redis.Redis | None = None


def _sync() -> redis.Redis:
    """For synchronous callers (page views, sockets' authorisation on pool threads): one client
    per process, whose pool is thread-safe."""
    global _sync_client  # noqa: PLW0603 - one pool per process
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL)
    return _sync_client


def snapshot_replace_sync(key: SnapshotKey, *, release: str, encoded: dict[str, str], ttl: int) -> None:
    """For synchronous callers (the page view). One client per process: its pool is thread-safe,
    and a page view no longer opens and closes a Redis connection of its own."""
    pipe = _sync().pipeline(transaction=True)
    pipe.delete(key.redis_key)
    pipe.hset(key.redis_key, mapping={META_FIELD: release, **encoded})  # type: ignore[dict-item]
    pipe.expire(key.redis_key, ttl)
    pipe.execute()


async def snapshot_touch(key: SnapshotKey, ttl: int = SNAPSHOT_IDLE_SECONDS) -> None:
    await loop_client().expire(key.redis_key, ttl)


def snapshot_release_sync(key: SnapshotKey) -> str | None:
    """The release a saved session was last shown with, or None; for synchronous callers (the
    socket's authorisation, on a pool thread): a tab may keep only the release its state is on."""
    raw = cast("bytes | None", _sync().hget(key.redis_key, META_FIELD))
    return raw.decode(errors="replace") if raw else None
