"""Reads of the event log, always through the tenant's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dashboards.events.event import ENTITY_TYPES, OPERATIONS
from dashboards.events.models import LoggedEvent
from dashboards.tenancy.models import ROW_ID_MAX, Tenant


def event_log(
    *,
    tenant: Tenant,
    entity_type: str = "",
    operation: str = "",
    app_id: Any = None,
    entity_id: str = "",
) -> QuerySet[LoggedEvent]:
    """Newest first; filters that name nothing known are ignored (the page shows them as "any")."""
    events = LoggedEvent.objects.for_tenant(tenant).select_related("app", "user")
    if entity_type in ENTITY_TYPES:
        events = events.filter(entity_type=entity_type)
    if operation in OPERATIONS:
        events = events.filter(operation=operation)
    if str(app_id or "").isascii() and str(app_id or "").isdigit():  # isdigit alone takes "²"
        # An id past the database's integers (?app=99999999999999999999) names no app: no events.
        events = events.filter(app_id=int(app_id)) if int(app_id) <= ROW_ID_MAX else events.none()
    if entity_id:
        events = events.filter(entity_id=entity_id[:64])
    return events.order_by("-created_at", "-pk")
