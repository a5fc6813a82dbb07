"""Django's HTTP side under Daphne: each request on one thread of a fixed pool, start to finish.

Django's ASGI handler gives every request a ``ThreadSensitiveContext`` of its own, so each
request starts a new thread, hops between it and the event loop before and after every
middleware (``MiddlewareMixin`` runs ``process_request`` and ``process_response`` through
``sync_to_async`` in async mode), and, as connections belong to threads, opens a new database
connection (about 1 ms on SQLite, 6 to 7 ms on PostgreSQL) that it closes at the end.

Here a request runs through Django's WSGI handler (the path every WSGI server takes) on one
thread of a pool that lives as long as the process, carried over ASGI by a2wsgi. The threads keep
their connections (``keep_connections_on_this_thread``, each thread's initializer); Django's
request cycle drops one past its age or broken, as it does with ``CONN_MAX_AGE``. The project has
no async views; one would still work (Django runs it to completion on the thread) but hold the
thread while it waits.
Measured in docs/performance.md ("Django's HTTP requests on a thread pool").
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

from dashboards.runtime.db import close_on_each_thread, keep_connections_on_this_thread
from dashboards.runtime.loops import server_loop

HTTP_THREADS = 8  # requests of one process served at once; Django setting HTTP_THREADS overrides it
RESPONSE_QUEUE_MESSAGES = 10  # body chunks a thread may be ahead of the socket (a2wsgi's default)
BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
BODY_CHUNK_BYTES = 64 * 1024
CLOSE_WAIT_SECONDS = 5.0

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class _ClosingAlso:
    """The response's iterable, whose ``close()`` (called by a2wsgi at the end) also closes ``extra``."""

    def __init__(self, iterable: Iterable[bytes], extra: IO[bytes]) -> None:
        self.iterable = iterable
        self.extra = extra

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.iterable)

    def close(self) -> None:
        try:
            getattr(self.iterable, "close", lambda: None)()
        finally:
            self.extra.close()


def _read_whole_body(environ: Environ) -> IO[bytes]:
    """A body sent without Content-Length (chunked): read it all so Django, reading by length, sees it.

    As Django's ASGI handler does: in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then a temporary file.
    """
    body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b")
    source = environ["wsgi.input"]
    while chunk := source.read(BODY_CHUNK_BYTES):
        body.write(chunk)
    environ["CONTENT_LENGTH"] = str(body.tell())
    body.seek(0)
    environ["wsgi.input"] = body
    return body


class DjangoOnThreads(WSGIMiddleware):
    """a2wsgi's app on threads that keep their connections, and a way to have them closed."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, threads: int) -> None:
        super().__init__(app, workers=threads, send_queue_size=RESPONSE_QUEUE_MESSAGES)
        # a2wsgi's pool (no thread started yet), each thread marked once as it starts
        self.executor = ThreadPoolExecutor(
            threads, thread_name_prefix="http", initializer=keep_connections_on_this_thread
        )
        self.threads = threads

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        server_loop.set(asyncio.get_running_loop())  # the request's thread gets a copy of this context
        await super().__call__(scope, receive, send)

    def close(self, timeout: float = CLOSE_WAIT_SECONDS) -> None:
        """Each thread closes its own connections, then the pool stops.

        For tests and tools that make an app of their own; a server process's pool lives as long
        as the process.
        """
        close_on_each_thread(self.executor, self.threads, timeout)

    def close_connections(self, timeout: float = CLOSE_WAIT_SECONDS) -> None:
        """Each thread closes its own connections, after the requests it is serving; the pool
        goes on, as requests may still come while a server shuts down (a later one opens anew)."""
        close_on_each_thread(self.executor, self.threads, timeout, stop=False)


def http_application() -> DjangoOnThreads:
    """The ASGI app for Django's HTTP requests; sets Django up, like ``get_asgi_application``."""
    django_wsgi = get_wsgi_application()

    def on_pool_thread(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("CONTENT_LENGTH") or environ["REQUEST_METHOD"] in BODILESS_METHODS:
            return django_wsgi(environ, start_response)
        body = _read_whole_body(environ)
        try:
            return _ClosingAlso(django_wsgi(environ, start_response), body)
        except BaseException:
            body.close()
            raise

    return DjangoOnThreads(on_pool_thread, threads=int(getattr(settings, "HTTP_THREADS", HTTP_THREADS)))
