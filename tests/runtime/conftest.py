"""Helpers for consumer tests: a signed-in socket on the real ASGI application and Redis."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from dashboards.config.asgi import application
from tests.support import deploy_test_app

LAB_SOURCE = '''
import asyncio
import logging
import time

from dashboards.sdk import notify

initial_state = {"count": 0, "items": [], "note": ""}
page = """
{% metric count label="Count" id="count" %}
{% text note id="note" %}
{% button "Boom" on_click="boom" id="boom" %}
"""
log = logging.getLogger(__name__)


def increment(state):
    state.count += 1


def boom(state):
    state.count += 100
    state["items"].append("half-done")
    raise ValueError("the handler failed on purpose")


def nest(state):
    nested = []
    for _ in range(100_000):  # deeper than the JSON encoder goes
        nested = [nested]
    state.note = nested


def slow(state):
    time.sleep(3)
    state.count = -1


async def nap(state, payload):
    await asyncio.sleep(0.01)
    state.note = f"napped {payload}"


def talk(state, session):
    print("hello from", session.username)
    log.warning("careful")
    notify(state, "success", "Said hello")


def bad_key(state):
    state.count += 100
    state["bad\\udcff"] = 1  # bytes decoded with surrogateescape, say: no snapshot can hold it


def gap(state):
    state["items"] = [1.5, float("nan")]  # a DataFrame's missing value
    state.note = "with a gap"


def show_items(state):
    state.note = repr(state["items"])


def _private(state):
    state.count = 999
'''


@dataclass
class Opened:
    socket: WebsocketCommunicator
    session_id: str
    release_id: str
    page: str


def signed_in_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def open_page(user, tenant: str, app: str) -> tuple[str, str, str, str]:
    client = Client()
    client.force_login(user)
    response = client.get(f"/t/{tenant}/apps/{app}/")
    assert response.status_code == 200, response.status_code
    html = response.text
    session_id = re.search(r'data-session-id="([^"]+)"', html).group(1)
    release_id = re.search(r'data-release="([^"]+)"', html).group(1)
    return client.cookies["sessionid"].value, session_id, release_id, html


def app_socket(
    cookie: str, tenant: str, app: str, *, session_id: str, release_id: str, fresh: bool
) -> WebsocketCommunicator:
    """A tab's socket to an app, as dashboards.js opens it (not connected yet)."""
    query = f"sid={session_id}&release={release_id}&fresh={int(fresh)}"
    return WebsocketCommunicator(
        application,
        f"/ws/t/{tenant}/apps/{app}/?{query}",
        headers=[
            (b"cookie", f"sessionid={cookie}".encode()),
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
        ],
    )


async def open_socket(
    user, tenant: str = "acme", app: str = "counter", *, session_id: str | None = None, fresh: bool = True
) -> Opened:
    cookie, page_session, release_id, html = await sync_to_async(open_page)(user, tenant, app)
    socket = app_socket(
        cookie, tenant, app, session_id=session_id or page_session, release_id=release_id, fresh=fresh
    )
    connected, _ = await socket.connect()
    assert connected
    return Opened(socket, session_id or page_session, release_id, html)


async def click(opened: Opened, handler: str, event: str = "ui:click", payload=None, **extra) -> str:
    await opened.socket.send_to(
        text_data=json.dumps({"event": event, "handler": handler, "payload": payload, **extra})
    )
    return await opened.socket.receive_from(timeout=5)


def component_ids(frame: str) -> list[str]:
    return re.findall(r'<(?:div|span) id="([^"]+)" class="dc ', frame)


@pytest.fixture
def lab_app(live_world):
    """An app of Acme with handlers that fail, hang, print and nap; its handlers time out after 1 s."""
    return deploy_test_app(live_world.acme, "lab", LAB_SOURCE, handler_timeout_seconds=1)
