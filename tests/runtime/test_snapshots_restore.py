"""Restoring a tab from its snapshot: what a handler kept comes back as it was kept, and a value
that cannot be read back never keeps the tab from opening (real Redis, real consumer)."""

from __future__ import annotations

import logging

import pytest

from dashboards.runtime.snapshots import SnapshotKey, snapshot_flush, snapshot_load
from tests.runtime.conftest import click, component_ids, open_socket
from tests.support import deploy_test_app

SOURCE = '''
initial_state = {"data": None, "count": 0, "note": "start"}
page = """
{% text data id="data" %}
{% metric count label="Count" id="count" %}
{% text note id="note" %}
"""


def save(state, payload):
    state.data = payload


def pairs(state):
    state.data = {(1, 2), (3, 4)}


def numbered(state):
    state.data = {1: "one"}


def read_one(state):
    state.note = state.data[1]


def check_pairs(state):
    state.note = str((1, 2) in state.data)


def increment(state):
    state.count += 1
'''

KEY = SnapshotKey(tenant_id=1, app_id=2, owner="u3", session_id="tab-restore-1")


@pytest.fixture
def restore_app(live_world):
    return deploy_test_app(live_world.acme, "restore", SOURCE)


async def _snapshot_key(live_world, app, session_id: str) -> SnapshotKey:
    return SnapshotKey(app.tenant_id, app.pk, f"u{live_world.avery.pk}", session_id)


async def _reopen(live_world, session_id: str):
    again = await open_socket(live_world.avery, app="restore", session_id=session_id, fresh=False)
    return again, await again.socket.receive_from(timeout=5)


@pytest.mark.parametrize(
    "payload",
    [
        {"__codec__": "nothing-here"},
        {"__codec__": "decimal", "value": "not a number"},
        {"__codec__": "datetime", "value": "2020-01-01T00:00:00"},
    ],
)
async def test_a_payload_kept_as_it_came_is_restored_as_it_was(live_world, restore_app, payload) -> None:
    tab = await open_socket(live_world.avery, app="restore")
    assert "data" in component_ids(await click(tab, "save", payload=payload))
    await tab.socket.disconnect()
    again, frame = await _reopen(live_world, tab.session_id)
    assert "&#x27;__codec__&#x27;" in frame and "Count" in frame
    key = await _snapshot_key(live_world, restore_app, tab.session_id)
    saved = await snapshot_load(key)
    assert saved is not None and saved.values["data"] == payload and not saved.undecodable
    await again.socket.disconnect()


async def test_sets_of_tuples_and_int_keys_are_restored_as_they_were(live_world, restore_app) -> None:
    tab = await open_socket(live_world.avery, app="restore")
    await click(tab, "pairs")
    await tab.socket.disconnect()
    again, _ = await _reopen(live_world, tab.session_id)
    assert ">True<" in await click(again, "check_pairs")
    await click(again, "numbered")
    await again.socket.disconnect()
    third, _ = await _reopen(live_world, tab.session_id)
    assert ">one<" in await click(third, "read_one")
    await third.socket.disconnect()


async def test_a_value_that_cannot_be_decoded_never_keeps_the_tab_from_opening(
    live_world, restore_app, redis_client, caplog
) -> None:
    tab = await open_socket(live_world.avery, app="restore")
    await click(tab, "increment")
    await click(tab, "save", payload="kept")
    await tab.socket.disconnect()
    await snapshot_flush()
    key = await _snapshot_key(live_world, restore_app, tab.session_id)
    redis_client.hset(key.redis_key, "note", '{"__codec__":"decimal","value":"not a number"}')
    redis_client.hset(key.redis_key, "later", "not json")  # a key only a handler had set
    with caplog.at_level(logging.WARNING, logger="dashboards.runtime.snapshots"):
        again, frame = await _reopen(live_world, tab.session_id)
    assert ">start<" in frame  # its initial value
    assert ">1<" in frame and ">kept<" in frame  # the others are kept
    assert key.redis_key in caplog.text and "'note'" in caplog.text and "'later'" in caplog.text
    assert ">2<" in await click(again, "increment")  # the session goes on
    await snapshot_flush()
    assert redis_client.hget(key.redis_key, "note") == b'"start"'  # repaired: the next load is clean
    assert redis_client.hexists(key.redis_key, "later") == 0
    await again.socket.disconnect()
    caplog.clear()
    third, frame = await _reopen(live_world, tab.session_id)
    assert ">2<" in frame and "cannot be restored" not in caplog.text
    await third.socket.disconnect()


async def test_a_fresh_tab_whose_snapshot_lost_a_value_is_rendered_again(
    live_world, restore_app, redis_client
) -> None:
    """The page was rendered from the value the snapshot no longer gives back: it is sent again."""
    tab = await open_socket(live_world.avery, app="restore")
    await tab.socket.disconnect()
    key = await _snapshot_key(live_world, restore_app, tab.session_id)
    redis_client.hset(key.redis_key, "count", "{")
    again = await open_socket(live_world.avery, app="restore", session_id=tab.session_id, fresh=True)
    assert "count" in component_ids(await again.socket.receive_from(timeout=5))
    await again.socket.disconnect()


async def test_load_leaves_out_what_it_cannot_read_and_says_which(redis_client, caplog) -> None:
    redis_client.hset(
        KEY.redis_key,
        mapping={
            "__release__": "7",
            "count": "3",
            "bad": '{"__codec__":"set","value":[[1]]}',
            b"\xff\xfe": "1",  # no state key is written so
        },
    )
    saved = await snapshot_load(KEY)
    assert saved is not None
    assert (saved.release, saved.values, saved.sizes, saved.undecodable) == (
        "7",
        {"count": 3},
        {"count": 1},
        {"bad"},
    )
    assert f"{KEY.redis_key}: state key 'bad' cannot be restored" in caplog.text


async def test_a_snapshot_that_is_not_a_hash_loads_as_none(redis_client, caplog) -> None:
    redis_client.set(KEY.redis_key, "oops")
    assert await snapshot_load(KEY) is None
    assert "is not a hash" in caplog.text
