"""The event log: every logged event of a tenant, kept for a bounded time (EVENT_LOG_RETENTION_DAYS)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from dashboards.events.event import ENTITY_TYPES, OPERATIONS, Event
from dashboards.runtime.json_column import DepthSafeJSONField
from dashboards.tenancy.models import Tenant, TenantScopedQuerySet


class LoggedEvent(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    app = models.ForeignKey("hosting.App", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entity_type = models.CharField(max_length=20, choices=[(t, t.replace("_", " ")) for t in ENTITY_TYPES])
    entity_id = models.CharField(max_length=64, blank=True)
    operation = models.CharField(max_length=20, choices=[(o, o) for o in OPERATIONS])
    attribute_name = models.CharField(max_length=100, blank=True)
    attribute_value = DepthSafeJSONField(null=True, blank=True)
    metadata = DepthSafeJSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "event"
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="event_tenant_time"),
            models.Index(fields=["tenant", "entity_type", "-created_at"], name="event_tenant_type_time"),
        ]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.entity_id} {self.operation}"

    def as_event(self) -> Event:
        return Event(
            entity_type=self.entity_type,
            operation=self.operation,
            entity_id=self.entity_id,
            attribute_name=self.attribute_name,
            attribute_value=self.attribute_value,
            creation_date=self.created_at,
            metadata=dict(self.metadata or {}),
            tenant_id=self.tenant_id,
            app_id=self.app_id,
            user_id=self.user_id,
            id=self.pk,
        )
