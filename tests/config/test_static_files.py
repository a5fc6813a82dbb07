"""Static files are answered before Django, from whitenoise's index, with the headers Django gave."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.testing import HttpCommunicator
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.management import call_command
from django.test import override_settings

from dashboards.config.static_files import READ_IN_THREAD_ABOVE, SECURITY, AsyncStaticFiles

PRODUCTION_STATIC = {
    "DEBUG": False,
    "WHITENOISE_AUTOREFRESH": False,
    "WHITENOISE_USE_FINDERS": False,
    "STORAGES": {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    },
    "SECURE_SSL_REDIRECT": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
}
HTTPS = [(b"host", b"testserver"), (b"x-forwarded-proto", b"https")]


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("static")
    with override_settings(**PRODUCTION_STATIC, STATIC_ROOT=root):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def production(static_root: Path) -> Iterator[Path]:
    with override_settings(**PRODUCTION_STATIC, STATIC_ROOT=static_root):
        yield static_root


class DjangoSpy:
    """Django's ASGI handler, counting the requests that reach it."""

    def __init__(self) -> None:
        self.django = ASGIHandler()
        self.paths: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        await self.django(scope, receive, send)


@pytest.fixture
def django(production: Path) -> DjangoSpy:
    return DjangoSpy()


@pytest.fixture
def app(django: DjangoSpy) -> AsyncStaticFiles:
    return AsyncStaticFiles(django)


def hashed(static_root: Path, name: str) -> str:
    return json.loads((static_root / "staticfiles.json").read_text())["paths"][name]


async def request(
    app: Any, path: str, *, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, dict[str, str], bytes]:
    communicator = HttpCommunicator(app, method, path, headers=[*HTTPS, *(headers or [])])
    response = await communicator.get_response(timeout=10)
    await communicator.wait()
    names = [name.decode().lower() for name, _ in response["headers"]]
    assert len(names) == len(set(names)), f"a header is repeated: {names}"
    found = {name.decode().lower(): value.decode() for name, value in response["headers"]}
    return response["status"], found, response["body"]


async def test_a_hashed_file_is_answered_here_cached_forever_with_the_security_headers(
    app: AsyncStaticFiles, django: DjangoSpy, production: Path
) -> None:
    name = hashed(production, "vendor/htmx/htmx.min.js")
    status, headers, body = await request(app, f"/static/{name}")
    assert status == 200
    assert body == (production / name).read_bytes()
    assert headers["content-length"] == str(len(body))
    assert headers["content-type"] == 'text/javascript; charset="utf-8"'
    assert headers["cache-control"] == "max-age=315360000, public, immutable"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "content-security-policy" not in headers  # as before: CSP is added below whitenoise
    assert django.paths == []


async def test_an_unhashed_name_is_cached_for_a_minute(app: AsyncStaticFiles) -> None:
    status, headers, _ = await request(app, "/static/css/platform.css")
    assert status == 200
    assert headers["cache-control"] == "max-age=60, public"


async def test_gzip_is_sent_to_who_accepts_it(app: AsyncStaticFiles, production: Path) -> None:
    name = hashed(production, "vendor/htmx/htmx.min.js")
    status, headers, body = await request(
        app, f"/static/{name}", headers=[(b"accept-encoding", b"gzip, deflate")]
    )
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == (production / name).read_bytes()


async def test_a_known_etag_gets_304_without_body(app: AsyncStaticFiles, production: Path) -> None:
    path = "/static/" + hashed(production, "vendor/htmx/htmx.min.js")
    _, first, _ = await request(app, path)
    status, headers, body = await request(app, path, headers=[(b"if-none-match", first["etag"].encode())])
    assert (status, body) == (304, b"")
    assert headers["etag"] == first["etag"]
    assert headers["x-content-type-options"] == "nosniff"


async def test_head_has_the_headers_and_no_body(app: AsyncStaticFiles, production: Path) -> None:
    name = hashed(production, "vendor/htmx/htmx.min.js")
    status, headers, body = await request(app, f"/static/{name}", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == str((production / name).stat().st_size)


async def test_a_range_gets_206_and_those_bytes(app: AsyncStaticFiles, production: Path) -> None:
    name = hashed(production, "vendor/htmx/htmx.min.js")
    status, headers, body = await request(app, f"/static/{name}", headers=[(b"range", b"bytes=10-19")])
    size = (production / name).stat().st_size
    assert status == 206
    assert headers["content-range"] == f"bytes 10-19/{size}"
    assert body == (production / name).read_bytes()[10:20]


async def test_post_to_a_static_file_is_405(
    app: AsyncStaticFiles, django: DjangoSpy, production: Path
) -> None:
    status, headers, body = await request(
        app, "/static/" + hashed(production, "vendor/htmx/htmx.min.js"), method="POST"
    )
    assert (status, body) == (405, b"")
    assert headers["allow"] == "GET, HEAD"
    assert headers["x-content-type-options"] == "nosniff"
    assert django.paths == []


async def test_a_big_file_is_sent_whole_in_chunks(app: AsyncStaticFiles, production: Path) -> None:
    name = hashed(production, "vendor/plotly/plotly.min.js")
    content = (production / name).read_bytes()
    assert len(content) > READ_IN_THREAD_ABOVE
    communicator = ApplicationCommunicator(
        app,
        {"type": "http", "http_version": "1.1", "method": "GET", "path": f"/static/{name}",
         "query_string": b"", "headers": HTTPS},
    )  # fmt: skip
    await communicator.send_input({"type": "http.request", "body": b""})
    assert (await communicator.receive_output(10))["status"] == 200
    chunks: list[bytes] = []
    while True:
        message = await communicator.receive_output(10)
        chunks.append(message["body"])
        if not message["more_body"]:
            break
    assert b"".join(chunks) == content
    assert max(len(chunk) for chunk in chunks) == 64 * 1024


async def test_an_unknown_static_path_falls_through_to_django(
    app: AsyncStaticFiles, django: DjangoSpy
) -> None:
    status, headers, _ = await request(app, "/static/no-such-file.js")
    assert status == 404
    assert "content-security-policy" in headers  # Django's own 404 page, through all middleware
    assert django.paths == ["/static/no-such-file.js"]


async def test_other_paths_reach_django(app: AsyncStaticFiles, django: DjangoSpy) -> None:
    status, _, _ = await request(app, "/no-such-page/")
    assert status == 404
    assert django.paths == ["/no-such-page/"]


async def plain_http_get(app: AsyncStaticFiles, path: str, host: bytes) -> dict:
    communicator = HttpCommunicator(app, "GET", path, headers=[(b"host", host)])
    response = await communicator.get_response(timeout=10)
    await communicator.wait()
    return response


async def test_plain_http_is_left_to_django_to_redirect(
    app: AsyncStaticFiles, django: DjangoSpy, production: Path
) -> None:
    path = "/static/" + hashed(production, "vendor/htmx/htmx.min.js")
    response = await plain_http_get(app, path, b"testserver")
    assert response["status"] == 301
    assert dict(response["headers"])[b"Location"] == f"https://testserver{path}".encode()
    assert django.paths == [path]


async def test_plain_http_from_a_foreign_host_gets_djangos_400(
    app: AsyncStaticFiles, production: Path
) -> None:
    path = "/static/" + hashed(production, "vendor/htmx/htmx.min.js")
    assert (await plain_http_get(app, path, b"evil.example"))["status"] == 400


@pytest.mark.parametrize(
    "development",
    [{"DEBUG": True}, {"WHITENOISE_AUTOREFRESH": True}, {"WHITENOISE_USE_FINDERS": True}],
)
def test_in_development_everything_goes_to_django(production: Path, development: dict[str, bool]) -> None:
    with override_settings(**development):
        assert AsyncStaticFiles(DjangoSpy()).whitenoise is None


def test_a_middleware_before_whitenoise_turns_this_layer_off(production: Path) -> None:
    with override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware", *settings.MIDDLEWARE]):
        assert AsyncStaticFiles(DjangoSpy()).whitenoise is None


def test_the_real_settings_put_only_security_before_whitenoise(production: Path) -> None:
    """Otherwise the fast path would turn itself off in production without a word."""
    assert settings.MIDDLEWARE[:2] == [SECURITY, "whitenoise.middleware.WhiteNoiseMiddleware"]
    layer = AsyncStaticFiles(DjangoSpy())
    assert layer.whitenoise is not None
    assert layer.security is not None
