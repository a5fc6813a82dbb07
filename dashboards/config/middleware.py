"""What every request goes through: response headers every page carries, and query strings no
database can filter by or no page reads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.utils.cache import patch_cache_control

from dashboards.config.inline_scripts import inline_script_source, inline_scripts_of
from dashboards.ops.views import refusal_page

logger = logging.getLogger(__name__)


@cache
def content_security_policy(inline_scripts: frozenset[str] = frozenset()) -> str:
    """Scripts only from our own origin (htmx and the platform scripts are vendored under static/),
    plus the inline scripts this page carries, named by their hash (inline_scripts.py); inline
    styles stay allowed because Django's admin uses style attributes."""
    script_src = " ".join(["'self'", *(inline_script_source(name) for name in sorted(inline_scripts))])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = content_security_policy(frozenset(inline_scripts_of(request)))
        response.headers.setdefault("Content-Security-Policy", policy)
        return response


class PrivateByDefaultMiddleware:
    """Pages are for the person who asked: a response that says nothing of caching is ``private``,
    so no proxy or CDN between keeps a signed-in page (its data, its tab's state) for others.
    Static files say otherwise themselves (whitenoise, before Django)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True)
        return response


class RefuseNulInQueryMiddleware:
    """A query string holding a NUL character is answered 400, with a sentence.

    Views filter rows by query values (``?status=``, ``?app=``, ``?entity_id=``): PostgreSQL
    refuses a NUL in any text it is given, and the page answered 500 for ``?status=%00``. Forms
    refuse NUL by themselves (Django's validators); query strings are read by hand.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return HttpResponseBadRequest(
                "This address holds a NUL character (%00), which no page takes.", content_type="text/plain"
            )
        return self.get_response(request)


class RefuseTooManyQueryFieldsMiddleware:
    """An address with more query parameters than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` (1000) is
    answered 400, with the page naming the limit; the log has Django's warning for a 400 ("Bad
    Request: <path>") and a line saying which limit (INFO, as ``bad_request``'s).

    Django raises ``TooManyFieldsSent`` from ``request.GET`` wherever it is first read. Outside
    DEBUG that became Django's 400 page (and an ERROR on ``django.security``); with DEBUG on it was
    a 500: Django's debug page for the 400 lists the request's GET parameters, so reading them
    raised again while the error was being answered. The query is read here, before any view or
    error page, and a refused one is left empty on the request so that nothing reads it again.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.GET  # noqa: B018 - parsed (and kept) by Django on first read, within its limit
        except TooManyFieldsSent as error:
            request.GET = QueryDict()
            logger.info(
                "400 for %s %s: more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS",
                request.method, request.path,
            )  # fmt: skip
            return refusal_page(request, error, in_query=True)
        return self.get_response(request)
