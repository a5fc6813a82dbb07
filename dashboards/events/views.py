"""The tenant's event log: what changed, when, by whom; for its developers and owners (thin view)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from dashboards.events.event import ENTITY_TYPES, OPERATIONS
from dashboards.events.limits import EVENT_LOG_RETENTION_DAYS
from dashboards.events.selectors import event_log
from dashboards.hosting.models import App
from dashboards.tenancy.roles import can_develop_apps
from dashboards.tenancy.views import tenant_member_required

EVENTS_PER_PAGE = 100


@tenant_member_required
def event_log_page(request: HttpRequest) -> HttpResponse:
    access = request.tenant_access  # type: ignore[attr-defined]
    if not can_develop_apps(access.role):
        raise Http404("No such page.")
    names = ("entity_type", "operation", "app", "entity_id")
    filters = {name: request.GET.get(name, "")[:64] for name in names}
    events = event_log(
        tenant=access.tenant,
        entity_type=filters["entity_type"],
        operation=filters["operation"],
        app_id=filters["app"],
        entity_id=filters["entity_id"],
    )
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode({name: value for name, value in filters.items() if value})
    context = {
        "page": page,
        "filters": filters,
        "query": query,
        "entity_types": ENTITY_TYPES,
        "operations": OPERATIONS,
        "apps": App.objects.for_tenant(access.tenant).order_by("name"),
        "retention_days": EVENT_LOG_RETENTION_DAYS,
    }
    return render(request, "events/event_log.html", context)
