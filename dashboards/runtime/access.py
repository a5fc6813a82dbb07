"""Who may open which app: one decision for the page view and the socket."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signing import BadSignature, TimestampSigner

from dashboards.hosting.models import App, AppAccess, AppRelease, ReleaseStatus
from dashboards.hosting.selectors import app_for_link, app_get, can_open_app
from dashboards.runtime.protocol import CLOSE_FORBIDDEN, CLOSE_UNKNOWN_APP
from dashboards.tenancy.selectors import TenantAccess, membership_role, tenant_access_for_user


@dataclass(frozen=True)
class SocketDecision:
    close_code: int | None
    app: App | None = None
    release: AppRelease | None = None


def app_for_user(*, user: Any, tenant_slug: str, app_slug: str) -> tuple[App | None, bool]:
    """(app, allowed): the app is None when it does not exist *or* its tenant is not the user's."""
    app, allowed, _ = app_and_access_for_user(user=user, tenant_slug=tenant_slug, app_slug=app_slug)
    return app, allowed


def app_and_access_for_user(
    *, user: Any, tenant_slug: str, app_slug: str
) -> tuple[App | None, bool, TenantAccess | None]:
    """``app_for_user``, and the user's access to the tenant it read on the way (the page shows it)."""
    tenant_access = tenant_access_for_user(user=user, slug=tenant_slug)
    if tenant_access is None:
        return None, False, None
    app = app_get(tenant=tenant_access.tenant, slug=app_slug)
    if app is None:
        return None, False, tenant_access
    return app, can_open_app(app=app, user=user, role=tenant_access.role), tenant_access


# Digits of a release id from a query string: fewer than a 64-bit key can overflow with.
RELEASE_ID_DIGITS = 18


def release_pk(text: str | None) -> int | None:
    """The release a socket's ``release`` parameter names, or None (then the active one is used).

    ASCII digits only: ``str.isdigit`` also takes "²", which ``int`` refuses, and thousands of
    digits pass it too, past what ``int`` converts.
    """
    if not text or len(text) > RELEASE_ID_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def authorise_socket(*, user: Any, tenant_slug: str, app_slug: str) -> SocketDecision:
    """Whether the user may open the app's socket (its release: ``release_for_tab``)."""
    app, allowed = app_for_user(user=user, tenant_slug=tenant_slug, app_slug=app_slug)
    if app is None:
        return SocketDecision(CLOSE_UNKNOWN_APP)
    if not allowed:
        return SocketDecision(CLOSE_FORBIDDEN)
    return SocketDecision(None, app=app)


def release_for_tab(
    app: App, release_id: str | None, saved_release: Callable[[], str | None]
) -> AppRelease | None:
    """The release a tab's socket runs: the active one, except for a tab that was loaded before a
    newer one: it keeps its own until it reloads, but only when its saved session is on it
    (``saved_release``, read only then). Asking for a release is no way to run one that was
    never activated, or was rolled back."""
    release = app.active_release
    wanted = release_pk(release_id)
    if wanted is not None and (release is None or release.pk != wanted) and saved_release() == str(wanted):
        release = (
            AppRelease.objects.for_tenant(app.tenant)
            .without_body()
            .filter(app=app, pk=wanted, status=ReleaseStatus.VALID)
            .first()
        ) or release
    return release


# A link visitor who is not signed in: an id in a signed cookie of their browser, which their
# socket's handshake carries too (no Django session row per visit: a crawler's visits cost none).
LINK_VISITOR_COOKIE = "dashboards_visitor"
LINK_VISITOR_SALT = "dashboards.link-visitor"
LINK_VISITOR_COOKIE_SECONDS = 30 * 24 * 3600


def link_visitor_of(cookies: dict[str, str]) -> str:
    """The visitor id a request's or a socket's cookies carry, or "" (absent, expired, or not
    signed with this platform's key: a visitor cannot choose another's id)."""
    value = cookies.get(LINK_VISITOR_COOKIE, "")
    try:
        return TimestampSigner(salt=LINK_VISITOR_SALT).unsign(value, max_age=LINK_VISITOR_COOKIE_SECONDS)
    except BadSignature:
        return ""


def link_visitor(request: Any) -> tuple[str, bool]:
    """(id, new): this browser's id among link visitors, from its cookie, or a new one to set."""
    visitor = link_visitor_of(request.COOKIES)
    return (visitor, False) if visitor else (secrets.token_urlsafe(18), True)


def remember_link_visitor(response: Any, visitor: str) -> None:
    response.set_cookie(
        LINK_VISITOR_COOKIE, TimestampSigner(salt=LINK_VISITOR_SALT).sign(visitor),
        max_age=LINK_VISITOR_COOKIE_SECONDS, secure=settings.SESSION_COOKIE_SECURE, httponly=True,
        samesite="Lax",
    )  # fmt: skip


def authorise_link_socket(*, token: str) -> SocketDecision:
    """A socket opened through a shared link: the app must still be shared that way."""
    app = app_for_link(token=token)
    if app is None:
        return SocketDecision(CLOSE_FORBIDDEN)  # the link was reset, or the app is no longer shared
    return SocketDecision(None, app=app)


def still_shared(*, app_id: int, token: str) -> bool:
    return App.objects.filter(pk=app_id, link_token=token, access=AppAccess.LINK).exists()


def still_signed_in(*, user_id: int, session_key: str | None, user: Any = None) -> bool:
    """The browser session a socket was opened with still signs this user in.

    False once it was signed out, flushed (another user signed in on that browser), expired, or
    its password changed elsewhere (Django keeps a hash of it in the session). Whether the user is
    active is ``still_allowed``'s to say (4403), or ``active_user``'s. ``user``: the row, if the
    caller has just read it."""
    if not session_key:
        return False
    from importlib import import_module  # noqa: PLC0415

    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY  # noqa: PLC0415
    from django.utils.crypto import constant_time_compare  # noqa: PLC0415

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if str(session.get(SESSION_KEY)) != str(user_id):
        return False
    if user is None or user.pk != user_id:
        user = get_user_model().objects.filter(pk=user_id).first()
    saved_hash = session.get(HASH_SESSION_KEY)
    return bool(user and saved_hash and constant_time_compare(saved_hash, user.get_session_auth_hash()))


def active_user(*, user_id: int) -> Any:
    """The user, or None once deleted or deactivated."""
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def still_allowed(*, user_id: int, app_id: int, user: Any = None) -> bool:
    """``user``: the row from ``active_user``, if the caller has just read it."""
    if user is None or user.pk != user_id:
        user = active_user(user_id=user_id)
    app = App.objects.select_related("tenant").filter(pk=app_id).first()
    if user is None or app is None:
        return False
    return can_open_app(app=app, user=user, role=membership_role(user=user, tenant=app.tenant))
