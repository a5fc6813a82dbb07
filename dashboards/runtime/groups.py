"""Channel-layer group names; every one carries what it is scoped to."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable

from channels_redis.core import RedisChannelLayer

from dashboards.runtime.loops import per_loop


def app_group(app_id: int) -> str:
    """Every open session of an app (new releases are announced here)."""
    return f"dashboards.app.{app_id}"


def user_group(user_id: int) -> str:
    """Every open session of a user (access changes are re-checked here)."""
    return f"dashboards.user.{user_id}"


def login_group(session_key: str) -> str:
    """Every socket opened by one signed-in browser session (closed on sign-out)."""
    return "dashboards.login." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def inbox_group(user_id: int) -> str:
    """Every open page of a user, platform pages and app tabs alike (toasts, the inbox badge)."""
    return f"dashboards.inbox.{user_id}"


def tab_group(app_id: int, user_id: int | None, session_id: str) -> str:
    """One tab's session, wherever its socket is open (its jobs report here). The user is part of
    it as of the state's key: another user's socket with the same session id is another session."""
    return f"dashboards.tab.{app_id}.{user_id or 0}.{session_id}"


# --- joining and leaving: batched, bounded ---
# redis-py 8's async pool raises "Too many connections" past 100 instead of waiting: a thousand tabs
# closing at once (a server restart, a network blip) would each take one for their group_discard.
# Membership changes of one event loop go through this many at a time, so they queue instead.
MEMBERSHIP_CHANGES_AT_ONCE = 32
_slot = per_loop(lambda: asyncio.Semaphore(MEMBERSHIP_CHANGES_AT_ONCE))
# Memberships sent to Redis in one pipeline (the events hub re-joins every socket's groups at once).
MEMBERSHIPS_PER_PIPELINE = 500

Membership = tuple[str, str]  # (group, channel)


async def groups_join(layer: RedisChannelLayer, memberships: Iterable[Membership]) -> None:
    """Add channels to groups: one Redis round trip per shard, as channels-redis's group_add would.

    Channels' ``group_add`` costs two round trips per group (ZADD, then EXPIRE); a tab joins five
    groups on every connect, so a reconnect storm after a deploy paid ten per tab.
    """
    await _change(layer, list(memberships), joining=True)


async def groups_leave(layer: RedisChannelLayer, memberships: Iterable[Membership]) -> None:
    await _change(layer, list(memberships), joining=False)


async def channel_join(layer: RedisChannelLayer, channel: str, groups: Iterable[str]) -> None:
    """One socket's (or the hub's) channel into these groups."""
    await groups_join(layer, [(group, channel) for group in groups])


async def channel_leave(layer: RedisChannelLayer, channel: str, groups: Iterable[str]) -> None:
    await groups_leave(layer, [(group, channel) for group in groups])


async def _change(layer: RedisChannelLayer, memberships: list[Membership], *, joining: bool) -> None:
    # The same keys and values as channels-redis's group_add and group_discard write
    # (tests/runtime/test_groups.py checks them against the layer's own calls).
    shards: dict[int, list[tuple[bytes, str]]] = {}
    for group, channel in memberships:
        assert layer.require_valid_group_name(group), "Group name not valid"
        assert layer.require_valid_channel_name(channel), "Channel name not valid"
        shards.setdefault(layer.consistent_hash(group), []).append((layer._group_key(group), channel))
    for index, members in shards.items():
        for start in range(0, len(members), MEMBERSHIPS_PER_PIPELINE):
            async with _slot():
                await _pipeline(layer, index, members[start : start + MEMBERSHIPS_PER_PIPELINE], joining)


async def _pipeline(
    layer: RedisChannelLayer, index: int, members: list[tuple[bytes, str]], joining: bool
) -> None:
    pipeline = layer.connection(index).pipeline(transaction=False)
    if joining:
        now = time.time()
        for key, channel in members:
            pipeline.zadd(key, {channel: now})
        for key in dict.fromkeys(key for key, _ in members):
            pipeline.expire(key, layer.group_expiry)
    else:
        for key, channel in members:
            pipeline.zrem(key, channel)
    await pipeline.execute()
