"""``{% inbox_badge %}``: the header's unread count, read from the database on every page load;
``|age``: how long ago, as the inbox says it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from dashboards.notifications.selectors import notification_unread_count

register = template.Library()


@register.inclusion_tag("notifications/_badge.html", takes_context=True)
def inbox_badge(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    count = notification_unread_count(user=user) if user is not None and user.is_authenticated else 0
    return {"unread_count": count, "oob": False}


@register.filter
def age(moment: datetime) -> str:
    """How long ago, as the inbox says it: "just now" under a minute ("0 minutes ago" read oddly)."""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"
