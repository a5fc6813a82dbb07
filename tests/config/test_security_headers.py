from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_pages_send_a_content_security_policy_without_inline_scripts(client: Client) -> None:
    response = client.get("/accounts/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
async def test_a_websocket_from_a_foreign_origin_is_refused() -> None:
    from channels.testing import WebsocketCommunicator

    from dashboards.config.asgi import application

    communicator = WebsocketCommunicator(
        application, "/ws/anything", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert connected is False
    await communicator.disconnect()
