"""Session snapshots against the real Redis: written behind the frame, together, and at once on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from dashboards.runtime import snapshots
from dashboards.runtime.snapshots import SnapshotKey, snapshot_flush, snapshot_load, snapshot_save

KEY = SnapshotKey(tenant_id=1, app_id=2, owner="u3", session_id="tab-snapshots-1")
OTHER = SnapshotKey(tenant_id=1, app_id=2, owner="u3", session_id="tab-snapshots-2")


async def _until(condition: Callable[[], bool]) -> None:
    """Poll for at most 2 s; the caller asserts the outcome."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)


def _count_script_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many sessions each call of the write script carried."""
    calls: list[int] = []
    real = snapshots._write_script

    def counting() -> object:
        script = real()

        async def call(*, keys: list[str], args: list[object]) -> object:
            calls.append(len(keys))
            return await script(keys=keys, args=args)

        return call

    monkeypatch.setattr(snapshots, "_write_script", counting)
    return calls


async def test_changes_within_the_interval_are_written_in_one_call(redis_client, monkeypatch) -> None:
    calls = _count_script_calls(monkeypatch)
    for count in range(5):  # a tab clicking back to back, and another tab
        await snapshot_save(KEY, release="7", encoded={"count": str(count)})
    await snapshot_save(OTHER, release="7", encoded={"note": '"hi"'})
    assert redis_client.exists(KEY.redis_key) == 0  # not yet: behind the frame
    await snapshot_flush()
    assert calls == [2]
    assert redis_client.hget(KEY.redis_key, "count") == b"4"
    assert redis_client.hget(OTHER.redis_key, "note") == b'"hi"'


async def test_pending_changes_are_written_after_the_interval_by_themselves(redis_client) -> None:
    await snapshot_save(KEY, release="7", encoded={"count": "1"})
    await _until(lambda: redis_client.hget(KEY.redis_key, "count") == b"1")
    assert redis_client.hget(KEY.redis_key, "count") == b"1"
    assert 0 < redis_client.ttl(KEY.redis_key)


async def test_a_lone_change_does_not_wait_for_the_interval(redis_client, monkeypatch) -> None:
    """It goes out 1 ms behind its frame, while the process is awake for it anyway."""
    monkeypatch.setattr(snapshots, "SNAPSHOT_WRITE_DELAY_SECONDS", 600)
    await snapshot_save(KEY, release="7", encoded={"count": "1"})
    await _until(lambda: redis_client.hget(KEY.redis_key, "count") == b"1")
    assert redis_client.hget(KEY.redis_key, "count") == b"1"


async def test_changes_right_after_a_write_wait_for_the_interval(redis_client, monkeypatch) -> None:
    """At most one write per interval however fast a tab clicks; a flush does not wait for it."""
    monkeypatch.setattr(snapshots, "SNAPSHOT_WRITE_DELAY_SECONDS", 600)
    calls = _count_script_calls(monkeypatch)
    await snapshot_save(KEY, release="7", encoded={"count": "1"})
    await _until(lambda: bool(calls))
    for count in (2, 3):
        await snapshot_save(KEY, release="7", encoded={"count": str(count)})
        await asyncio.sleep(0.1)
    assert calls == [1]
    assert redis_client.hget(KEY.redis_key, "count") == b"1"
    await asyncio.wait_for(snapshot_flush(), 5)
    assert calls == [1, 1]
    assert redis_client.hget(KEY.redis_key, "count") == b"3"


async def test_a_load_does_not_wait_for_the_interval(redis_client, monkeypatch) -> None:
    """A reconnecting tab reads its newest state at once, however long the interval."""
    monkeypatch.setattr(snapshots, "SNAPSHOT_WRITE_DELAY_SECONDS", 600)
    await snapshot_save(KEY, release="7", encoded={"count": "3"}, deleted={"gone"})
    release, values, _, _ = await asyncio.wait_for(snapshot_load(KEY), 5)
    assert (release, values) == ("7", {"count": 3})


async def test_a_field_that_is_not_text_costs_only_its_own_session(redis_client, caplog) -> None:
    """Written together, one bad session must not take the others' changes with it."""
    await snapshot_save(KEY, release="7", encoded={"count": "1"})
    await snapshot_save(OTHER, release="7", encoded={"bad\udcff": "1"})
    await snapshot_flush()
    assert redis_client.hget(KEY.redis_key, "count") == b"1"
    assert redis_client.exists(OTHER.redis_key) == 0
    assert "tab-snapshots-2 not saved" in caplog.text
