"""Emitting events: logged in the writer's transaction, delivered once it commits.

``event_emit`` is called by the services that change an entity (apps, releases, jobs,
scenarios, notifications) and by app code through the SDK. The log row is written in the
caller's transaction, so a rolled-back change leaves neither a row nor a delivery; delivery
(the channel layer for pages and sessions, RQ for ``on_event`` processors) happens on commit.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from dashboards.events.event import Event, entity_type_of, operation_of
from dashboards.events.limits import EVENT_LOG_RETENTION_DAYS
from dashboards.events.models import LoggedEvent
from dashboards.events.processing import current_event_depth
from dashboards.events.values import EventRefused, event_fields_checked

logger = logging.getLogger(__name__)


def event_emit(
    *,
    tenant_id: int,
    entity_type: Any,
    operation: Any,
    entity_id: Any = "",
    attribute_name: str = "",
    attribute_value: Any = None,
    metadata: dict[str, Any] | None = None,
    app_id: int | None = None,
    user_id: int | None = None,
    log: bool = True,
) -> Event:
    """Record an event and deliver it after the current transaction commits.

    ``log=False`` is for high-rate hints (a job's progress): delivered, never stored.
    """
    try:
        entity = entity_type_of(entity_type)
        op = operation_of(operation)
    except ValueError as error:
        raise EventRefused(str(error)) from None
    value, extra = event_fields_checked(
        entity_id=entity_id, attribute_name=attribute_name, attribute_value=attribute_value, metadata=metadata
    )
    depth = current_event_depth.get()
    if depth:  # made by an on_event callback, whatever made it (a scenario, a notification, a job)
        extra["depth"] = depth
    event = Event(
        entity_type=entity,
        operation=op,
        entity_id=str(entity_id or "")[:64],
        attribute_name=str(attribute_name or "")[:100],
        attribute_value=value,
        metadata=extra,
        tenant_id=int(tenant_id),
        app_id=app_id,
        user_id=user_id,
    )
    if log:
        row = LoggedEvent.objects.create(
            tenant_id=event.tenant_id,
            app_id=app_id,
            user_id=user_id,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            operation=event.operation,
            attribute_name=event.attribute_name,
            attribute_value=value,
            metadata=extra,
            created_at=event.creation_date,
        )
        event = Event(**{**event.__dict__, "id": row.pk})
    from dashboards.events.delivery import deliver  # noqa: PLC0415 - delivery imports the layer and RQ

    transaction.on_commit(lambda: deliver(event), robust=True)
    return event


def event_log_prune(*, now: Any = None) -> int:
    """Drop log rows past the retention; returns how many (run by the jobs workers' maintenance)."""
    cutoff = (now or timezone.now()) - timedelta(days=EVENT_LOG_RETENTION_DAYS)
    deleted, _ = LoggedEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
