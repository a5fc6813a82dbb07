from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dashboards.events.models import LoggedEvent
from dashboards.tenancy.admin_scoping import TenantFilter, TenantScopedAdmin


@admin.register(LoggedEvent)
class LoggedEventAdmin(TenantScopedAdmin):
    """Read-only: the log is written by the platform, and pruned past its retention."""

    list_display = [
        "created_at",
        "entity_type",
        "entity_id",
        "operation",
        "attribute_name",
        "app",
        "user",
        "tenant",
    ]
    list_filter = [TenantFilter, "entity_type", "operation"]
    search_fields = ["entity_id", "attribute_name"]
    list_select_related = ["tenant", "app", "user"]
    readonly_fields = [f.name for f in LoggedEvent._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # pruned past its retention; deleted with its tenant or app, never row by row
