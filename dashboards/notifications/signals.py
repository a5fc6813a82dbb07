"""Notifications follow memberships: a member who leaves a tenant leaves its unread notifications
read, so that coming back months later does not light the badge with old news."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.utils import timezone

from dashboards.notifications.models import Notification
from dashboards.tenancy.models import Membership


def _membership_ended(sender: Any, instance: Membership, **_: Any) -> None:
    Notification.objects.for_tenant(instance.tenant_id).filter(
        user_id=instance.user_id, read_at__isnull=True
    ).update(read_at=timezone.now())


def connect() -> None:
    post_delete.connect(_membership_ended, sender=Membership, dispatch_uid="notifications.membership_ended")
