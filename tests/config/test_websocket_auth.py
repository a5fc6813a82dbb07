"""A socket's sign-in lookup runs on the db-call threads, which keep their database connections."""

from __future__ import annotations

import threading
from typing import Any

from asgiref.sync import sync_to_async
from django.db.backends.signals import connection_created

from dashboards.runtime.db import THREAD_NAME_PREFIX
from tests.runtime.conftest import app_socket, open_page


async def test_opening_sockets_opens_no_connection_outside_the_db_call_threads(live_world) -> None:
    cookie, session_id, release_id, _ = await sync_to_async(open_page)(live_world.avery, "acme", "counter")
    opened_on: list[str] = []

    def note(sender: Any, connection: Any, **kwargs: Any) -> None:
        opened_on.append(threading.current_thread().name)

    connection_created.connect(note, dispatch_uid="test_websocket_auth")
    try:
        for attempt in range(3):
            socket = app_socket(
                cookie, "acme", "counter", session_id=session_id, release_id=release_id, fresh=attempt == 0
            )
            connected, _ = await socket.connect()
            assert connected
            await socket.send_json_to({"event": "ui:click", "handler": "increment", "payload": None})
            assert "dc-metric-value" in await socket.receive_from(timeout=5)  # signed in and served
            await socket.disconnect()
    finally:
        connection_created.disconnect(dispatch_uid="test_websocket_auth")
    # Channels' own middleware looked the session and user up on its shared sync thread, which
    # opens and closes a connection per call: three here.
    assert all(name.startswith(THREAD_NAME_PREFIX) for name in opened_on), opened_on
