"""Static files answered on the event loop, in front of Django, from whitenoise's own index.

Under Daphne, Django runs sync middleware (whitenoise's included) on asgiref's one shared sync
thread per process, so a fresh page's static files queued there one after another, behind every
sync view. This layer answers them before Django: whitenoise still decides everything HTTP
(compressed variants, ETag and Last-Modified, Range, HEAD, cache headers, 405); this layer only
carries its answer over ASGI and adds the headers SecurityMiddleware adds to static responses
today. It is on only when whitenoise's index is built at start-up (production settings); in
development, and for anything it does not know, requests reach Django unchanged, where
WhiteNoiseMiddleware remains the fallback.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import IO, Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest, get_script_prefix
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.utils.log import log_response
from whitenoise.middleware import WhiteNoiseMiddleware

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CHUNK_BYTES = 64 * 1024  # one http.response.body message; what Django's ASGI handler sends too
READ_IN_THREAD_ABOVE = 256 * 1024  # larger bodies (plotly) are read off the loop, chunk by chunk

WHITENOISE = "whitenoise.middleware.WhiteNoiseMiddleware"
SECURITY = "django.middleware.security.SecurityMiddleware"


class _Scheme:
    """Just enough of a request for SecurityMiddleware.process_response: is it HTTPS?"""

    def __init__(self, secure: bool) -> None:
        self.secure = secure

    def is_secure(self) -> bool:
        return self.secure


class AsyncStaticFiles:
    """ASGI app: files whitenoise knows under STATIC_URL are answered here; the rest go to ``inner``."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner
        self.whitenoise: WhiteNoiseMiddleware | None = None
        self.security: SecurityMiddleware | None = None
        # Headers SecurityMiddleware adds to a plain and to an HTTPS response (HSTS), computed once.
        self.security_headers: dict[bool, list[tuple[bytes, bytes]]] = {False: [], True: []}
        before = _middleware_before_whitenoise()
        if before is None:
            return
        self.whitenoise = WhiteNoiseMiddleware(get_response=None, settings=settings)
        if SECURITY in before:
            self.security = SecurityMiddleware(get_response=_never_called)
            for secure in (False, True):
                self.security_headers[secure] = _added_headers(self.security, secure=secure)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        whitenoise = self.whitenoise
        if whitenoise is None or scope["type"] != "http":
            return await self.inner(scope, receive, send)
        path_info = scope["path"].removeprefix(get_script_prefix(scope))
        if not path_info.startswith(whitenoise.static_prefix):
            return await self.inner(scope, receive, send)
        static_file = whitenoise.files.get(path_info)
        if static_file is None:
            return await self.inner(scope, receive, send)
        try:
            request = ASGIRequest(scope, io.BytesIO())
        except UnicodeDecodeError:  # Django answers 400 for it
            return await self.inner(scope, receive, send)
        secure = request.is_secure()
        if self.security is not None and self.security.redirect and not secure:
            return await self.inner(scope, receive, send)  # Django redirects it (or refuses the host)
        response = static_file.get_response(request.method, request.META)
        try:
            await self.respond(response, request, secure, send)
        finally:
            if response.file is not None:
                response.file.close()

    async def respond(self, response: Any, request: ASGIRequest, secure: bool, send: Send) -> None:
        """Send whitenoise's response (status, headers, open file or None) as ASGI messages."""
        status = int(response.status)
        headers = [(name.encode("latin1"), value.encode("latin1")) for name, value in response.headers]
        present = {name.lower() for name, _ in headers}
        headers += [(n, v) for n, v in self.security_headers[secure] if n.lower() not in present]
        if status >= 400:  # logged as Django's handler logs them ("Method Not Allowed: /static/...")
            log_response(
                "%s: %s", HTTPStatus(status).phrase, request.path,
                response=HttpResponse(status=status), request=request,
            )  # fmt: skip
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if response.file is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        length = int(dict(response.headers).get("Content-Length", 0))
        await _send_file(response.file, length, send)


async def _send_file(file: IO[bytes], length: int, send: Send) -> None:
    """Send ``length`` bytes of ``file`` in chunks; a big file is read in a thread, off the loop."""
    in_thread = length > READ_IN_THREAD_ABOVE
    remaining = length
    while remaining > 0:
        size = min(CHUNK_BYTES, remaining)
        chunk = await asyncio.to_thread(file.read, size) if in_thread else file.read(size)
        if not chunk:
            break  # the file shrank since start-up; end the body where it ends
        remaining -= len(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
    if remaining > 0 or length == 0:
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _middleware_before_whitenoise() -> list[str] | None:
    """The middleware that runs before whitenoise's, or None when this layer must stay out of the way.

    None when whitenoise looks files up on every request (development), and when any middleware
    other than SecurityMiddleware runs before whitenoise's: its work would be skipped here.
    """
    if settings.DEBUG or getattr(settings, "WHITENOISE_AUTOREFRESH", False):
        return None
    if getattr(settings, "WHITENOISE_USE_FINDERS", False):
        return None
    middleware = list(settings.MIDDLEWARE)
    if WHITENOISE not in middleware:
        return None
    before = middleware[: middleware.index(WHITENOISE)]
    return before if set(before) <= {SECURITY} else None


def _added_headers(security: SecurityMiddleware, *, secure: bool) -> list[tuple[bytes, bytes]]:
    """The headers SecurityMiddleware adds to a response, by running it once on an empty one."""
    blank = HttpResponse()
    before = set(blank.headers)
    response = security.process_response(_Scheme(secure), HttpResponse())  # type: ignore[arg-type]  # duck-typed
    return [
        (name.encode("latin1"), value.encode("latin1"))
        for name, value in response.headers.items()
        if name not in before
    ]


def _never_called(request: Any) -> HttpResponse:
    raise AssertionError("SecurityMiddleware is used here for its settings and process_response only")
