"""Reads of notifications: a user's own, only in the tenants they still belong to."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dashboards.notifications.models import Notification
from dashboards.tenancy.models import Tenant

INBOX_PAGE_SIZE = 100


def notification_list_for_user(*, user: Any) -> QuerySet[Notification]:
    """Newest first. A member who leaves a tenant stops seeing its notifications (the rows stay)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return (
        Notification.objects.for_tenants(Tenant.objects.for_user(user))
        .filter(user=user)
        .select_related("tenant")
        .order_by("-created_at", "-id")
    )


def notification_unread_count(*, user: Any) -> int:
    """The badge's number; read again on every page load and with every push."""
    return notification_list_for_user(user=user).filter(read_at__isnull=True).count()


def notification_inbox(*, user: Any, limit: int = INBOX_PAGE_SIZE) -> list[Notification]:
    return list(notification_list_for_user(user=user)[:limit])
