from __future__ import annotations

import logging
import traceback
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from dashboards.hosting.selectors import app_for_link
from dashboards.hosting.services import app_log_append
from dashboards.runtime.access import app_and_access_for_user, link_visitor, remember_link_visitor
from dashboards.runtime.limits import WEBSOCKET_MAX_MESSAGE_BYTES
from dashboards.runtime.render_deadline import render_deadline
from dashboards.runtime.services import (
    AppUnavailable,
    ReleaseRuntime,
    handler_timeout,
    release_runtime,
    session_start_for_page,
)

logger = logging.getLogger(__name__)


@login_required
def app_page(request: HttpRequest, tenant_slug: str, app_slug: str) -> HttpResponse:
    """The app's page, rendered from a fresh session's state; its socket then joins that session."""
    app, allowed, tenant_access = app_and_access_for_user(
        user=request.user, tenant_slug=tenant_slug, app_slug=app_slug
    )
    if app is None:
        raise Http404("No such page.")
    request.tenant_access = tenant_access  # type: ignore[attr-defined]
    if not allowed:
        return render(request, "runtime/app_forbidden.html", {"app": app}, status=403)
    return _show_app(request, app, socket_path=f"/ws/t/{tenant_slug}/apps/{app_slug}/")


def app_link_page(request: HttpRequest, token: str) -> HttpResponse:
    """An app shared with "anyone with the link": no sign-in needed, nor membership of its tenant.

    A visitor who is not signed in is told apart by an id in a signed cookie of their browser,
    which their socket presents too: their tabs' saved state is theirs alone.
    """
    app = app_for_link(token=token)
    if app is None:
        raise Http404("No such page.")
    visitor, new = ("", False) if request.user.is_authenticated else link_visitor(request)
    response = _show_app(request, app, socket_path=f"/ws/l/{token}/", via_link=True, visitor=visitor)
    if new:
        remember_link_visitor(response, visitor)
    return response


def _show_app(
    request: HttpRequest, app: Any, *, socket_path: str, via_link: bool = False, visitor: str = ""
) -> HttpResponse:
    try:
        runtime = release_runtime(app.active_release)
        session_id, state = session_start_for_page(
            app=app, user=request.user, runtime=runtime, visitor=visitor
        )
        page_html = _render_page(app, runtime, state.values(), reasons=not via_link)
    except AppUnavailable as error:
        context = {"app": app, "reason": str(error), "via_link": via_link}
        return render(request, "runtime/app_unavailable.html", context, status=503)
    context = {
        "app": app,
        "release": runtime.release,
        "session_id": session_id,
        "page_html": page_html,
        "has_chart": runtime.page.has_chart,
        "socket_path": socket_path,
        "via_link": via_link,
        "max_message_bytes": WEBSOCKET_MAX_MESSAGE_BYTES,  # the page refuses larger events itself
    }
    return render(request, "runtime/app_page.html", context)


def _render_page(app: Any, runtime: ReleaseRuntime, values: dict[str, Any], *, reasons: bool) -> str:
    """The page's HTML; a template that fails when shown (a loop over a number, a bad ``include``)
    is the app's fault: its log gets the traceback, its user a 503, never a server error."""
    try:
        with render_deadline(handler_timeout(app)):  # a loop over loops of state ends there
            return runtime.page.render(values, reasons=reasons)
    except Exception as error:
        release = runtime.release
        logger.warning("The page of %s (release %s) failed to render: %r", app, release.pk, error)
        reason = f"release v{release.version}: the page failed to render: {type(error).__name__}: {error}"
        app_log_append(app_id=app.pk, tenant_id=app.tenant_id, release_id=release.pk,
                       lines=[("error", reason), ("error", traceback.format_exc().rstrip())])  # fmt: skip
        raise AppUnavailable(
            "This app's page failed to show; its developers have been told in its log."
        ) from None
