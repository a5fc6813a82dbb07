"""Live-page sockets on the real ASGI application, channel layer and Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from dashboards.config.asgi import application
from dashboards.live.topics import register_topic, unregister_topic
from tests.runtime.conftest import signed_in_cookie

PROBE_TOPIC = "probe"


def probe_renderer(*, user, tenant, data) -> str:
    """Follows custom events; ``{}`` (re-render everything) shows as "all"."""
    values = data.get("attribute_value") or {} if data else {"n": "all"}
    if values.get("skip"):
        return ""
    if values.get("fail"):
        raise RuntimeError("the renderer failed on purpose")
    return f'<div id="probe" hx-swap-oob="true">{tenant.slug} {user.get_username()} {values.get("n")}</div>'


@pytest.fixture
def probe_topic() -> Iterator[str]:
    register_topic(PROBE_TOPIC, probe_renderer, entity_types=("custom",))
    yield PROBE_TOPIC
    unregister_topic(PROBE_TOPIC)


async def emit_probe(tenant_id: int, values: dict, *, log: bool = True) -> None:
    """A custom event of a tenant, committed: what the probe topic follows."""
    from dashboards.events.services import event_emit

    await sync_to_async(event_emit)(
        tenant_id=tenant_id, entity_type="custom", entity_id="probe", operation="update",
        attribute_name="n", attribute_value=values, log=log,
    )  # fmt: skip


async def connect_live(user=None, query: str = "", cookie: str | None = None) -> WebsocketCommunicator:
    """A live page's socket; accepted (a refusal is a close message that follows)."""
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None and cookie is None:
        cookie = await sync_to_async(signed_in_cookie)(user)
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    socket = WebsocketCommunicator(application, f"/ws/live/?{query}", headers=headers)
    connected, _ = await socket.connect()
    assert connected
    return socket
