"""An app's initial_state runs as its handlers do: through the executor, with their time limit."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from dashboards.runtime.protocol import CLOSE_APP_BROKEN
from tests.runtime.conftest import app_socket, open_page
from tests.support import deploy_test_app

MODE = "DASHBOARDS_TEST_INITIAL_STATE"  # read when a session starts, not at validation (its own process)

SOURCE = f'''
import os
import time

def initial_state(session):
    mode = os.environ.get("{MODE}", "")
    if mode == "raise":
        raise RuntimeError("no data source today")
    if mode == "hang":
        time.sleep(5)
    if mode == "unkeepable":  # validation's made-up session gets a plain count
        return {{"count": 0, "raw": b"bytes are no state"}}
    return {{"count": 0}}

page = """{{% metric count label="Count" id="count" %}}"""

def increment(state):
    state["count"] += 1
'''


@pytest.fixture
def moody_app(live_world):
    return deploy_test_app(live_world.acme, "moody", SOURCE, handler_timeout_seconds=1)


def app_log(app) -> list[str]:
    from dashboards.hosting.models import AppLogEntry

    return list(AppLogEntry.objects.filter(app=app).values_list("message", flat=True))


def page_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_failing_initial_state_gives_a_clear_page_and_a_log_line(moody_app, live_world, monkeypatch):
    monkeypatch.setenv(MODE, "raise")
    response = page_as(live_world.avery).get("/t/acme/apps/moody/")
    assert response.status_code == 503
    assert "failed to start" in response.text
    log = "\n".join(app_log(moody_app))
    assert "initial_state raised RuntimeError: no data source today" in log
    assert "Traceback" in log
    monkeypatch.delenv(MODE)
    assert page_as(live_world.avery).get("/t/acme/apps/moody/").status_code == 200  # and it recovers


def test_an_initial_state_that_hangs_is_cut_at_the_app_s_time_limit(moody_app, live_world, monkeypatch):
    monkeypatch.setenv(MODE, "hang")
    started = time.monotonic()
    response = page_as(live_world.avery).get("/t/acme/apps/moody/")
    assert response.status_code == 503
    assert time.monotonic() - started < 4  # the app's limit is 1 s; the function sleeps 5
    assert any("initial_state timed out" in line for line in app_log(moody_app))


async def test_a_socket_whose_session_cannot_start_is_closed_with_the_broken_app_code(
    moody_app, live_world, monkeypatch
):
    cookie, _, release_id, _ = await sync_to_async(open_page)(live_world.avery, "acme", "moody")
    monkeypatch.setenv(MODE, "raise")
    socket = app_socket(
        cookie, "acme", "moody", session_id="no-snapshot-for-this-one", release_id=release_id, fresh=True
    )
    connected, _ = await socket.connect()
    assert connected
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_APP_BROKEN}


def test_an_initial_state_giving_a_real_user_state_that_cannot_be_kept_is_a_clear_page(
    moody_app, live_world, monkeypatch
):
    monkeypatch.setenv(MODE, "unkeepable")
    response = page_as(live_world.avery).get("/t/acme/apps/moody/")
    assert response.status_code == 503  # it was a server error
    assert "failed to start" in response.text
    assert any("initial_state gave state that cannot be kept" in line for line in app_log(moody_app))


async def test_a_socket_failing_to_open_gives_its_tab_back_and_closes_as_an_internal_error(
    moody_app, live_world, monkeypatch, settings
):
    import redis

    from dashboards.runtime import consumers, services
    from dashboards.runtime.protocol import CLOSE_INTERNAL_ERROR

    settings.TABS_PER_USER = 2
    cookie, _, release_id, _ = await sync_to_async(open_page)(live_world.avery, "acme", "moody")

    async def redis_away(key):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(services, "snapshot_load", redis_away)
    for attempt in range(3):  # a browser reconnecting while Redis is away
        socket = app_socket(cookie, "acme", "moody", session_id=f"attempt-{attempt}", release_id=release_id,
                            fresh=False)  # fmt: skip
        assert (await socket.connect())[0]
        closed = await socket.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": CLOSE_INTERNAL_ERROR}
        await socket.disconnect()
    assert consumers._open_tabs_per_user.get(live_world.avery.pk, 0) == 0  # each gave its place back
    monkeypatch.undo()
    settings.TABS_PER_USER = 2
    socket = app_socket(cookie, "acme", "moody", session_id="after-redis-came-back", release_id=release_id,
                        fresh=False)  # fmt: skip
    assert (await socket.connect())[0]
    assert "count" in await socket.receive_from(timeout=5)
    await socket.disconnect()
