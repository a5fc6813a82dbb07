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


@pytest.mark.django_db
async def test_a_websocket_from_another_port_of_the_same_host_is_refused() -> None:
    """Browsers send the session cookie to every port of a site: a page of another service on the
    platform's host name must not open a user's sockets."""
    from channels.testing import WebsocketCommunicator

    from dashboards.config.asgi import application

    for origin, host in [
        (b"http://testserver:9999", b"testserver"),
        (b"http://testserver", b"testserver:8000"),
    ]:
        communicator = WebsocketCommunicator(
            application, "/ws/live/", headers=[(b"origin", origin), (b"host", host)]
        )
        connected, _ = await communicator.connect()
        assert connected is False, origin
        await communicator.disconnect()


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        ("http://testserver", "testserver", True),
        ("https://dash.example.com", "dash.example.com:443", True),
        ("http://localhost:8000", "localhost:8000", True),
        ("http://LOCALHOST:8000", "localhost:8000", True),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("http://localhost:9999", "localhost:8000", False),
        ("https://dash.example.com:8443", "dash.example.com", False),
        ("http://testserver.evil.example", "testserver", False),
        ("null", "testserver", False),
        ("", "testserver", False),
        ("http://testserver", "", False),
        ("http://testserver:notaport", "testserver", False),
        ("ftp://testserver", "testserver", False),
    ],
)
def test_the_origin_must_name_the_host_and_port_the_socket_was_opened_on(origin, host, same) -> None:
    from dashboards.config.websocket_origin import same_site_origin

    assert same_site_origin(origin=origin, host=host, trusted_origins=[]) is same


def test_a_trusted_origin_may_open_sockets_from_another_port() -> None:
    from dashboards.config.websocket_origin import same_site_origin

    trusted = ["https://dash.example.com:8443"]
    assert same_site_origin(
        origin="https://dash.example.com:8443", host="dash.example.com", trusted_origins=trusted
    )


def test_a_site_served_over_https_takes_sockets_from_https_pages_only() -> None:
    """A page on plain HTTP (a man in the middle's) would get the cookie sent over wss://."""
    from dashboards.config.websocket_origin import same_site_origin

    assert same_site_origin(
        origin="https://dash.example.com", host="dash.example.com", trusted_origins=[], https=True
    )
    assert not same_site_origin(
        origin="http://dash.example.com", host="dash.example.com", trusted_origins=[], https=True
    )


def test_wildcard_trusted_origins_work_for_sockets_as_for_forms() -> None:
    from dashboards.config.websocket_origin import same_site_origin

    trusted = ["https://*.example.com"]
    assert same_site_origin(origin="https://eu.example.com", host="internal:8000", trusted_origins=trusted)
    assert not same_site_origin(origin="http://eu.example.com", host="internal:8000", trusted_origins=trusted)
    assert not same_site_origin(
        origin="https://eu.example.com.evil", host="internal:8000", trusted_origins=trusted
    )
    assert not same_site_origin(
        origin="https://evilexample.com", host="internal:8000", trusted_origins=trusted
    )


def test_signed_in_pages_are_private_to_caches(client: Client, world) -> None:
    client.force_login(world.avery)
    for path in ("/t/acme/apps/counter/", "/t/acme/jobs/", "/inbox/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "private" in response.headers["Cache-Control"], path
    login = Client().get("/accounts/login/")  # Django's own say more, and keep it
    assert "no-cache" in login.headers["Cache-Control"] or "private" in login.headers["Cache-Control"]
