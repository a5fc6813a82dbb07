"""Session state kept in Redis, so a reload, a dropped connection or a new Daphne process restores it.

One hash per tab session; after each event only the mutated keys are written. The key carries the
tenant, the app and the owner (user), so a session id alone never opens another user's state.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings

from dashboards.runtime import codecs
from dashboards.runtime.limits import SNAPSHOT_IDLE_SECONDS

META_FIELD = "__release__"
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class SnapshotKey:
    tenant_id: int
    app_id: int
    owner: str  # "u<user id>" or "link:<digest>"
    session_id: str

    @property
    def redis_key(self) -> str:
        return f"dashboards:state:{self.tenant_id}:{self.app_id}:{self.owner}:{self.session_id}"


def _client() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        _clients[loop] = client
    return client


async def snapshot_load(key: SnapshotKey) -> tuple[str | None, dict[str, Any]] | None:
    """The release and values of a saved session, or None."""
    raw = await _client().hgetall(key.redis_key)
    if not raw:
        return None
    release = raw.pop(META_FIELD.encode(), b"").decode() or None
    return release, {field.decode(): codecs.decode(value) for field, value in raw.items()}


async def snapshot_save(
    key: SnapshotKey,
    *,
    release: str,
    encoded: dict[str, str],
    deleted: set[str] = frozenset(),  # type: ignore[assignment]
    ttl: int = SNAPSHOT_IDLE_SECONDS,
) -> None:
    """Write the given (already encoded) keys, drop deleted ones, and push the expiry back.

    One round trip, no MULTI: each command is atomic on its own and a torn write can only leave
    an older value of a key, which the next event's write replaces.
    """
    pipe = _client().pipeline(transaction=False)
    pipe.hset(key.redis_key, mapping={META_FIELD: release, **encoded})
    if deleted:
        pipe.hdel(key.redis_key, *deleted)
    pipe.expire(key.redis_key, ttl)
    await pipe.execute()


async def snapshot_replace(key: SnapshotKey, *, release: str, encoded: dict[str, str], ttl: int) -> None:
    pipe = _client().pipeline(transaction=True)
    pipe.delete(key.redis_key)
    pipe.hset(key.redis_key, mapping={META_FIELD: release, **encoded})
    pipe.expire(key.redis_key, ttl)
    await pipe.execute()


def snapshot_replace_sync(key: SnapshotKey, *, release: str, encoded: dict[str, str], ttl: int) -> None:
    """For synchronous callers (the page view)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        pipe = client.pipeline(transaction=True)
        pipe.delete(key.redis_key)
        pipe.hset(key.redis_key, mapping={META_FIELD: release, **encoded})
        pipe.expire(key.redis_key, ttl)
        pipe.execute()
    finally:
        client.close()


async def snapshot_touch(key: SnapshotKey, ttl: int = SNAPSHOT_IDLE_SECONDS) -> None:
    await _client().expire(key.redis_key, ttl)
