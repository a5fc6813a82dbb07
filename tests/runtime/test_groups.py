"""Group memberships are written in pipelines, as channels-redis's own group_add would write them.

``groups_join`` and ``groups_leave`` write the layer's keys directly (one round trip per shard
instead of two per group), so these tests check them against the layer's own calls on the real
Redis: a channels-redis upgrade that changes its keys fails here.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from channels_redis.core import RedisChannelLayer

from dashboards.runtime import groups as groups_module
from dashboards.runtime.groups import groups_join, groups_leave

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def layer(settings, redis_client):
    layer = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
    yield layer
    await layer.close_pools()


def group_names(n: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"test.groups.{run}.{i}" for i in range(n)]


async def received(layer: RedisChannelLayer, channel: str, timeout: float = 2.0) -> dict | None:
    try:
        return await asyncio.wait_for(layer.receive(channel), timeout)
    except TimeoutError:
        return None


async def test_joined_groups_reach_the_channel_and_left_ones_do_not(layer) -> None:
    channel = await layer.new_channel()
    names = group_names(5)
    await groups_join(layer, [(name, channel) for name in names])
    for n, name in enumerate(names):
        await layer.group_send(name, {"type": "probe", "n": n})
        assert await received(layer, channel) == {"type": "probe", "n": n}
    await groups_leave(layer, [(name, channel) for name in names])
    for name in names:
        await layer.group_send(name, {"type": "probe"})
    assert await received(layer, channel, timeout=0.5) is None


async def test_the_keys_are_those_the_layer_writes_itself(layer) -> None:
    """Same key, member, score (the time of joining) and expiry as channels-redis's group_add."""
    ours, theirs = group_names(2)
    channel = await layer.new_channel()
    await groups_join(layer, [(ours, channel)])
    await layer.group_add(theirs, channel)
    connection = layer.connection(layer.consistent_hash(ours))
    for name in (ours, theirs):
        key = layer._group_key(name)
        assert abs(await connection.zscore(key, channel) - time.time()) < 5
        assert layer.group_expiry - 5 < await connection.ttl(key) <= layer.group_expiry
    await groups_leave(layer, [(ours, channel), (theirs, channel)])
    assert await connection.exists(layer._group_key(ours), layer._group_key(theirs)) == 0


async def test_many_memberships_go_in_several_pipelines_and_all_arrive(layer, monkeypatch) -> None:
    monkeypatch.setattr(groups_module, "MEMBERSHIPS_PER_PIPELINE", 7)
    names = group_names(3)
    channels = [f"{layer.prefix}.probe!{i}" for i in range(10)]
    memberships = [(name, channel) for name in names for channel in channels]
    await groups_join(layer, memberships)
    connection = layer.connection(0)
    assert [await connection.zcard(layer._group_key(name)) for name in names] == [10, 10, 10]
    await groups_leave(layer, memberships)
    assert [await connection.zcard(layer._group_key(name)) for name in names] == [0, 0, 0]


async def test_invalid_names_are_refused_as_the_layer_refuses_them(layer) -> None:
    with pytest.raises(TypeError):
        await groups_join(layer, [("not a valid group name!", "x.y!z")])
