from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dashboards.notifications.models import Notification
from dashboards.tenancy.admin_scoping import TenantFilter, TenantScopedAdmin


@admin.register(Notification)
class NotificationAdmin(TenantScopedAdmin):
    """Read-only: notifications are written by the platform (jobs, the SDK); owners may delete them."""

    list_display = ["created_at", "tenant", "user", "level", "short_message", "subject", "read_at"]
    list_filter = [TenantFilter, "level", "subject_type"]
    search_fields = ["message", "user__username"]
    list_select_related = ["tenant", "user"]
    readonly_fields = [
        "tenant", "user", "level", "message", "link", "subject_type", "subject_id", "created_at", "read_at",
    ]  # fmt: skip

    @admin.display(description="Message")
    def short_message(self, notification: Notification) -> str:
        return notification.message[:120]

    @admin.display(description="About")
    def subject(self, notification: Notification) -> str:
        if not notification.subject_type:
            return "-"
        return f"{notification.subject_type} {notification.subject_id or ''}".strip()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
