"""Response headers that every page carries."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from dashboards.config.inline_scripts import inline_script_sources


def content_security_policy() -> str:
    """Scripts only from our own origin (htmx and the platform scripts are vendored under static/),
    plus the inline scripts named by their hash (inline_scripts.py); inline styles stay allowed
    because Django's admin uses style attributes."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {inline_script_sources()}",
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
        self.policy = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
