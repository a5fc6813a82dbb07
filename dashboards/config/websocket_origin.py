"""A socket opens only from a page of this very site: the Origin's scheme, host *and port*.

Channels' ``AllowedHostsOriginValidator`` (kept, outermost) compares host names only, so a page
of another service on the same host name (``https://dash.example.com:8443``, or any port of
``localhost``) could open a signed-in user's sockets: browsers send the Lax session cookie to
every port of a site. This is the check Django's CSRF protection makes for a form's POST: the
Origin names the Host the request was sent to, with the site's scheme (``https`` when the site
is served over HTTPS, so a page on plain HTTP, a man in the middle's, cannot), or matches
``CSRF_TRUSTED_ORIGINS`` (``https://*.example.com`` too, as for forms).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.utils.http import is_same_domain

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _netloc(origin: str) -> str | None:
    """``host[:port]`` as the Host header says it (the default port left out), or None."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return host if port in (None, _DEFAULT_PORTS[parts.scheme]) else f"{host}:{port}"


def same_site_origin(*, origin: str, host: str, trusted_origins: list[str], https: bool = False) -> bool:
    """``https``: the site is served over HTTPS, so only an https page is one of its own."""
    if _trusted(origin, trusted_origins):
        return True
    netloc = _netloc(origin)
    if netloc is None or not host or (https and not origin.startswith("https://")):
        return False
    host = host.lower()
    for scheme, port in _DEFAULT_PORTS.items():  # "example.com:443" names the same as "example.com"
        if origin.startswith(f"{scheme}://") and host.endswith(f":{port}"):
            host = host.removesuffix(f":{port}")
    return netloc.lower() == host


def _trusted(origin: str, trusted_origins: list[str]) -> bool:
    """An exact trusted origin, or one under a wildcard (``https://*.example.com``), as Django's
    CSRF check matches them: same scheme, and the host a subdomain of the pattern's."""
    if origin in trusted_origins:
        return True
    try:
        parts = urlsplit(origin)
        netloc = parts.netloc.lower()
    except ValueError:
        return False
    for trusted in trusted_origins:
        if "*" not in trusted:
            continue
        pattern = urlsplit(trusted)
        if pattern.scheme == parts.scheme and netloc and is_same_domain(netloc, pattern.netloc.lstrip("*")):
            return True
    return False


class SameOriginValidator:
    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            headers = dict(scope.get("headers", []))
            origin = headers.get(b"origin", b"").decode("latin1")
            host = headers.get(b"host", b"").decode("latin1")
            if not same_site_origin(
                origin=origin, host=host, trusted_origins=settings.CSRF_TRUSTED_ORIGINS,
                https=bool(settings.SESSION_COOKIE_SECURE),
            ):  # fmt: skip
                denier = WebsocketDenier()
                return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
