"""The channel layer's Redis connections, as the settings configure them, on the real Redis.

channels-redis waits for messages in BZPOPMIN with a timeout of ``brpop_timeout`` (5 s). With
redis-py 8's default 5 s socket timeout the read timed out first, and the receive raised
``redis.exceptions.TimeoutError`` (a consumer, and its tab's socket, died about every 6 s). A
read timeout above 5 s hung instead: on Python 3.11 a cancellation that lands while redis-py
sends a command through ``asyncio.wait_for`` is dropped, and the cancelled receive went on
waiting in BZPOPMIN forever (test teardowns hung). See ``channel_layer_host`` in
dashboards/config/environment.py.
"""

from __future__ import annotations

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer

pytestmark = pytest.mark.timeout(60)


def settings_layer(settings) -> RedisChannelLayer:
    """A layer of its own (so no pools are shared with other tests' loops), configured as the
    platform's: the settings' hosts and prefix."""
    return RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])


async def test_an_idle_receive_outlasts_the_blocking_wait(settings, redis_client) -> None:
    layer = settings_layer(settings)
    channel = await layer.new_channel()
    receive = asyncio.ensure_future(layer.receive(channel))
    try:
        # One full BZPOPMIN wait and a second more: the read must not time out meanwhile.
        done, _ = await asyncio.wait([receive], timeout=layer.brpop_timeout + 1.5)
        if done:
            pytest.fail(f"an idle receive() ended after less than {layer.brpop_timeout + 1.5} s: {receive!r}")
        # And it still receives.
        await layer.send(channel, {"type": "probe", "n": 1})
        assert await asyncio.wait_for(receive, 2) == {"type": "probe", "n": 1}
    finally:
        receive.cancel()
        await asyncio.gather(receive, return_exceptions=True)
        await layer.close_pools()


async def test_a_cancelled_receive_ends_at_once(settings, redis_client) -> None:
    """Cancelled at each of its first steps (connecting, handshake, sending BZPOPMIN, waiting), a
    receive ends within a second; a dropped cancellation would leave it waiting in BZPOPMIN."""
    stuck = []
    for steps in range(30):
        layer = settings_layer(settings)
        channel = await layer.new_channel()
        receive = asyncio.ensure_future(layer.receive(channel))
        for _ in range(steps):
            await asyncio.sleep(0)
        receive.cancel()
        done, _ = await asyncio.wait([receive], timeout=1)
        if not done:
            stuck.append(steps)
            receive.cancel()
        outcome = (await asyncio.gather(receive, return_exceptions=True))[0]
        if done and not isinstance(outcome, asyncio.CancelledError):
            pytest.fail(f"cancelled after {steps} loop steps, receive() ended with {outcome!r}")
        await layer.close_pools()
    assert not stuck, f"cancellations dropped after these numbers of loop steps: {stuck}"
