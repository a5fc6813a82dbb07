"""A live page's ``since`` that is no time, and a connect that fails midway: nothing is left behind."""

from __future__ import annotations

import time

import pytest
from channels.layers import get_channel_layer

from dashboards.events.hub import get_hub
from dashboards.live import consumers
from dashboards.live import subscriptions as subscriptions_module
from dashboards.live.consumers import LivePageConsumer
from dashboards.live.subscriptions import SINCE_MAX_AHEAD_SECONDS, parse_query, parse_since
from dashboards.live.topics import register_topic, unregister_topic
from dashboards.runtime import shutdown
from tests.live.conftest import PROBE_TOPIC, connect_live, emit_probe, probe_renderer

BAD_SINCE = ("nan", "NaN", "inf", "-inf", "1e300", "-1e300", "-1", "1e12", "abc", "0x10", " ")


@pytest.mark.parametrize("value", BAD_SINCE)
def test_a_since_that_is_no_rendering_time_is_ignored_and_logged(value, caplog) -> None:
    caplog.set_level("WARNING", logger="dashboards.live")
    assert parse_since(value) is None
    assert "is not a time it could have been rendered at; ignored" in caplog.text


def test_a_rendering_time_is_kept_and_an_absent_one_is_none_without_a_warning(caplog) -> None:
    caplog.set_level("WARNING", logger="dashboards.live")
    now = time.time()
    assert parse_since("") is None
    assert parse_since("0") == 0.0
    assert parse_since("1764000000") == 1764000000.0
    assert parse_since(str(now + SINCE_MAX_AHEAD_SECONDS / 2)) == pytest.approx(
        now + SINCE_MAX_AHEAD_SECONDS / 2
    )
    assert parse_query(b"tenant=acme&topics=jobs&since=1764000000") == ("acme", ["jobs"], 1764000000.0)
    assert caplog.text == ""


async def test_pages_with_a_bad_since_open_and_get_their_updates(live_world, probe_topic) -> None:
    hub = get_hub()
    pages = [await connect_live(live_world.avery, f"tenant=acme&topics={probe_topic}&since={value}")
             for value in ("nan", "inf", "-inf", "1e300", "-1e300")]  # fmt: skip
    for page in pages:
        assert await page.receive_nothing(timeout=0.1)  # open, nothing replayed, no error
    assert len(hub.listeners[live_world.acme.pk]) == len(pages)
    await emit_probe(live_world.acme.pk, {"n": 5})
    for page in pages:
        assert await page.receive_from(timeout=2) == '<div id="probe" hx-swap-oob="true">acme avery 5</div>'
    for page in pages:
        await page.disconnect()
    assert hub.listeners == {} and hub.memberships == {}


async def test_a_reconnect_gets_what_changed_since_its_page_was_rendered(live_world, probe_topic) -> None:
    rendered = time.time() - 60
    await emit_probe(live_world.acme.pk, {"n": 1})  # logged while the page was away
    page = await connect_live(live_world.avery, f"tenant=acme&topics={probe_topic}&since={rendered:.0f}")
    assert await page.receive_from(timeout=2) == '<div id="probe" hx-swap-oob="true">acme avery all</div>'
    far_ahead = await connect_live(
        live_world.avery, f"tenant=acme&topics={probe_topic}&since={time.time() + 3600:.0f}"
    )
    assert await far_ahead.receive_nothing(timeout=0.3)  # ignored: nothing to replay
    for socket in (page, far_ahead):
        await socket.disconnect()


def replay_fails(**kwargs) -> list[str]:
    raise RuntimeError("the replay failed on purpose")


@pytest.mark.parametrize(
    ("failure", "error"),
    [("replay", RuntimeError), ("since unchecked", ValueError)],
)
async def test_a_connect_that_fails_midway_leaves_nothing_behind(
    live_world, monkeypatch, failure, error
) -> None:
    """Channels never calls disconnect for a connect that raised: connect itself undoes its steps."""
    renders: list[dict] = []

    def counting_renderer(**kwargs) -> str:
        renders.append(kwargs["data"])
        return probe_renderer(**kwargs)

    register_topic(PROBE_TOPIC, counting_renderer, entity_types=("custom",))
    try:
        if failure == "replay":
            monkeypatch.setattr(consumers, "topics_missed", replay_fails)
        else:  # what the audit found: datetime.fromtimestamp(nan) in the replay
            monkeypatch.setattr(
                subscriptions_module, "parse_since", lambda value: float(value) if value else None
            )
        tracked: list[LivePageConsumer] = []
        track = shutdown.track
        monkeypatch.setattr(shutdown, "track", lambda consumer: (tracked.append(consumer), track(consumer)))
        hub = get_hub()
        page = await connect_live(live_world.avery, f"tenant=acme&topics={PROBE_TOPIC}&since=nan")
        with pytest.raises(error):
            await page.receive_output(timeout=2)
        [consumer] = tracked
        assert hub.listeners == {} and hub.memberships == {} and hub.task is None
        assert consumer not in list(shutdown._open_tabs)  # a restart does not count it as an open tab
        assert consumer.renderer.done() or consumer.renderer.cancelling()
        layer = get_channel_layer()
        for group in consumer.groups_joined:
            connection = layer.connection(layer.consistent_hash(group))
            assert await connection.zscore(layer._group_key(group), consumer.channel_name) is None
        await emit_probe(live_world.acme.pk, {"n": 1})  # no one listens: no render
        monkeypatch.undo()
        other = await connect_live(live_world.avery, f"tenant=acme&topics={PROBE_TOPIC}")
        await emit_probe(live_world.acme.pk, {"n": 2})
        assert "acme avery 2" in await other.receive_from(timeout=2)
        assert [data["attribute_value"] for data in renders] == [{"n": 2}]  # for the open page only
        await other.disconnect()
    finally:
        unregister_topic(PROBE_TOPIC)
