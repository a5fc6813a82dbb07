"""Response headers that every page carries."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest, HttpResponse

from dashboards.config.inline_scripts import inline_script_source, inline_scripts_of


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
