from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from dashboards.runtime.access import app_and_access_for_user
from dashboards.runtime.services import AppUnavailable, release_runtime, session_start_for_page


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
    try:
        runtime = release_runtime(app.active_release)
        info, state = session_start_for_page(app=app, user=request.user, runtime=runtime)
    except AppUnavailable as error:
        return render(request, "runtime/app_unavailable.html", {"app": app, "reason": str(error)}, status=503)
    context = {
        "app": app,
        "release": runtime.release,
        "session_id": info.session_id,
        "page_html": runtime.page.render(state.values()),
        "has_chart": runtime.page.has_chart,
        "socket_path": f"/ws/t/{tenant_slug}/apps/{app_slug}/",
    }
    return render(request, "runtime/app_page.html", context)
