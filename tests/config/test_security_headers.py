from __future__ import annotations

import base64
import hashlib
import re

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


def test_the_app_pages_one_inline_script_is_allowed_by_its_hash_alone(client: Client, world) -> None:
    client.force_login(world.avery)
    response = client.get("/t/acme/apps/counter/")
    scripts = re.findall(r"<script(?: [^>]*)?>(.*?)</script>", response.text, re.DOTALL)
    inline = [text for text in scripts if text]
    assert len(inline) == 1 and "new WebSocket(" in inline[0]  # the early socket (socket-early.js)
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    script_src = response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0].split()
    assert script_src == ["'self'", f"'sha256-{digest}'"]
    assert 'data-socket-path="/ws/t/acme/apps/counter/"' in response.text
    # Pages without it allow no inline script at all.
    home = client.get("/t/acme/").headers["Content-Security-Policy"]
    assert home.split("script-src")[1].split(";")[0].split() == ["'self'"]


def test_only_the_listed_scripts_can_be_inlined() -> None:
    from dashboards.config.inline_scripts import inline_script_text

    with pytest.raises(ValueError, match="not one of the inline scripts"):
        inline_script_text("js/dashboards.js")


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
