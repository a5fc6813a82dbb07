"""Django's HTTP requests under Daphne run on a fixed thread pool whose threads keep their connections."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from channels.testing import HttpCommunicator
from django.contrib.auth import get_user_model
from django.db.backends.signals import connection_created

from dashboards.config.http import DjangoOnThreads, http_application
from tests.runtime.conftest import signed_in_cookie

pytestmark = pytest.mark.django_db(transaction=True)  # the pool's threads must see the rows


@pytest.fixture
def connections_opened() -> Iterator[list[str]]:
    """The name of the thread of each database connection opened meanwhile."""
    opened: list[str] = []

    def note(sender: Any, connection: Any, **kwargs: Any) -> None:
        opened.append(threading.current_thread().name)

    connection_created.connect(note, dispatch_uid="test_http_pool")
    yield opened
    connection_created.disconnect(dispatch_uid="test_http_pool")


@pytest.fixture
def app() -> Iterator[DjangoOnThreads]:
    """An app of the test's own, whose threads close their connections after it (PostgreSQL warns
    about a connection garbage-collected open)."""
    made = http_application()
    yield made
    made.close()


async def get(app: Any, path: str, cookie: str = "") -> dict[str, Any]:
    headers = [(b"host", b"testserver")] + ([(b"cookie", cookie.encode())] if cookie else [])
    return await HttpCommunicator(app, "GET", path, headers=headers).get_response(timeout=10)


async def test_a_pool_thread_keeps_its_database_connection_from_request_to_request(
    app: DjangoOnThreads, connections_opened: list[str]
) -> None:
    from asgiref.sync import sync_to_async

    user = await sync_to_async(get_user_model().objects.create_user)("pooled", password="x" * 12)
    cookie = "sessionid=" + await sync_to_async(signed_in_cookie)(user)
    connections_opened.clear()
    for _ in range(6):
        response = await get(app, "/t/", cookie)  # the session, the user and the tenants: queries
        assert response["status"] == 200
    threads_used = set(connections_opened)
    assert threads_used, "the requests opened no connection at all"
    # Without the pool every request opened (and closed) its own: six. With it, one per thread.
    assert len(connections_opened) == len(threads_used) < 6


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
async def test_a_form_post_reaches_django_with_its_body(app: DjangoOnThreads, with_length: bool) -> None:
    from asgiref.sync import sync_to_async

    await sync_to_async(get_user_model().objects.create_user)("poster", password="s3cret-enough")
    form = await get(app, "/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form["body"]).group(1).decode()
    csrf_cookie = next(
        value.decode().split(";")[0] for name, value in form["headers"] if name.lower() == b"set-cookie"
    )
    body = urlencode({"csrfmiddlewaretoken": token, "username": "poster", "password": "s3cret-enough"})
    response = await HttpCommunicator(
        app,
        "POST",
        "/accounts/login/",
        body=body.encode(),
        headers=[
            (b"host", b"testserver"),
            (b"cookie", csrf_cookie.encode()),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"referer", b"http://testserver/accounts/login/"),
            *([(b"content-length", str(len(body)).encode())] if with_length else []),
        ],
    ).get_response(timeout=10)
    assert response["status"] == 302, response["body"][:300]
    assert any(
        name.lower() == b"set-cookie" and b"sessionid=" in value for name, value in response["headers"]
    )


async def test_an_unknown_page_is_django_s_own_404(app: DjangoOnThreads) -> None:
    response = await get(app, "/no/such/page/")
    assert response["status"] == 404
    assert b"<html" in response["body"].lower()


async def test_at_shutdown_the_threads_close_their_connections_and_still_serve(
    app: DjangoOnThreads, connections_opened: list[str]
) -> None:
    import asyncio

    from dashboards.runtime import shutdown

    assert (await get(app, "/healthz"))["status"] == 200
    connections_opened.clear()
    await asyncio.to_thread(app.close_connections)
    # Requests that come while the server shuts down are still answered, on a new connection.
    assert (await get(app, "/t/"))["status"] in (200, 302)
    assert (await get(app, "/healthz"))["status"] == 200
    assert connections_opened, "the thread kept its connection through close_connections"
    # And the web process's own pool is closed so at SIGTERM (config/asgi.py).
    from dashboards.config import asgi

    assert asgi.django_http_application.close_connections in shutdown._closers
