"""Releases no tab uses are unloaded from a process once idle; the ones in use stay."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from dashboards.runtime import limits
from dashboards.runtime.executor import get_executor
from dashboards.runtime.residency import ReleaseResidency
from dashboards.runtime.services import residency
from tests.runtime.conftest import app_socket, click, open_page, open_socket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def unloaded() -> list[str]:
    return []


@pytest.fixture
def tracker(clock, unloaded) -> ReleaseResidency:
    return ReleaseResidency(unloaded.append, clock=clock)


def test_a_release_is_unloaded_once_idle_for_the_limit_and_not_before(tracker, clock, unloaded) -> None:
    tracker.touch("7")
    clock.now += limits.RELEASE_IDLE_UNLOAD_SECONDS - 1
    assert tracker.sweep() == []
    clock.now += 1
    assert tracker.sweep() == ["7"]
    assert unloaded == ["7"]
    assert tracker.sweep() == []  # once


def test_an_open_tab_keeps_its_release_however_long_it_stays(tracker, clock, unloaded) -> None:
    tracker.hold("7")
    tracker.hold("7")
    clock.now += 10 * limits.RELEASE_IDLE_UNLOAD_SECONDS
    assert tracker.sweep() == []
    tracker.let_go("7")
    clock.now += 10 * limits.RELEASE_IDLE_UNLOAD_SECONDS
    assert tracker.sweep() == []  # the other tab is still open
    tracker.let_go("7")
    assert tracker.sweep() == []  # idle from its last tab's close, not from its first use
    clock.now += limits.RELEASE_IDLE_UNLOAD_SECONDS
    assert tracker.sweep() == ["7"]


def test_sweeps_run_by_themselves_as_releases_are_used_at_most_every_interval(
    tracker, clock, unloaded
) -> None:
    tracker.touch("old")
    clock.now += limits.RELEASE_IDLE_UNLOAD_SECONDS
    tracker.touch("new")  # the first sweep is due: the interval has passed since the tracker began
    assert unloaded == ["old"]
    tracker.touch("older")
    clock.now += limits.RELEASE_IDLE_UNLOAD_SECONDS
    clock.now -= limits.RELEASE_SWEEP_EVERY_SECONDS - 1  # ... but not the next one yet
    tracker.hold("new")
    assert unloaded == ["old"]
    clock.now += limits.RELEASE_SWEEP_EVERY_SECONDS
    tracker.let_go("new")
    assert unloaded == ["old", "older"]


def test_a_failing_unload_is_logged_and_the_caller_goes_on(clock, caplog) -> None:
    def broken(key: str) -> None:
        raise RuntimeError("cannot")

    tracker = ReleaseResidency(broken, clock=clock)
    tracker.touch("7")
    clock.now += limits.RELEASE_IDLE_UNLOAD_SECONDS
    assert tracker.sweep() == ["7"]
    assert "release 7 could not be unloaded" in caplog.text


async def test_the_process_unloads_a_release_after_its_last_tab_and_loads_it_again(
    live_world, monkeypatch
) -> None:
    monkeypatch.setattr(limits, "RELEASE_IDLE_UNLOAD_SECONDS", 0.0)
    opened = await open_socket(live_world.avery)
    key = opened.release_id
    assert residency.tabs(key) == 1
    assert key not in residency.sweep()  # in use: kept (other tests' releases may go)
    assert get_executor().loaded(key) is not None
    assert "count" in await click(opened, "increment")
    await opened.socket.disconnect()
    assert residency.tabs(key) == 0
    assert key in residency.sweep()
    assert get_executor().loaded(key) is None
    # The next tab imports it again, and works.
    again = await open_socket(live_world.avery)
    assert again.release_id == key
    assert get_executor().loaded(key) is not None
    assert "count" in await click(again, "increment")
    await again.socket.disconnect()


async def test_a_connect_that_fails_after_taking_its_release_lets_it_go(live_world, monkeypatch) -> None:
    """Channels never calls disconnect when connect raises: the consumer undoes the hold itself."""
    from dashboards.runtime.consumers import AppSessionConsumer

    join = AppSessionConsumer._join

    async def redis_away(self, *groups: str) -> None:
        if any(group.startswith("dashboards.tab.") for group in groups):  # the join once open
            raise ConnectionError("redis away")
        await join(self, *groups)

    monkeypatch.setattr(AppSessionConsumer, "_join", redis_away)
    cookie, page_session, release_id, _ = await sync_to_async(open_page)(live_world.avery, "acme", "counter")
    socket = app_socket(cookie, "acme", "counter", session_id=page_session, release_id=release_id, fresh=True)
    with pytest.raises(ConnectionError):
        await socket.connect()
    assert residency.tabs(release_id) == 0
