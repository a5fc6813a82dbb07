"""``{% inbox_badge %}``: the header's unread count, read from the database on every page load."""

from __future__ import annotations

from typing import Any

from django import template

from dashboards.notifications.selectors import notification_unread_count

register = template.Library()


@register.inclusion_tag("notifications/_badge.html", takes_context=True)
def inbox_badge(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    count = notification_unread_count(user=user) if user is not None and user.is_authenticated else 0
    return {"unread_count": count, "oob": False}
