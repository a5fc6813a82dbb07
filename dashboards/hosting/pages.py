"""The live ``apps`` topic: the tenant home's app cards, re-rendered when an app or release changes."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from dashboards.hosting.selectors import app_list_for_member
from dashboards.tenancy.roles import can_develop_apps
from dashboards.tenancy.selectors import membership_role

APPS_TOPIC = "apps"


def render_apps_topic(*, user: Any, tenant: Any, data: dict[str, Any]) -> str:
    """Whatever the event, the cards are re-read: who may open what can change with it."""
    role = membership_role(user=user, tenant=tenant)
    if role is None:
        return ""
    context = {
        "tenant": tenant,
        "apps": app_list_for_member(tenant=tenant, user=user, role=role),
        "can_develop": can_develop_apps(role),
        "oob": True,
    }
    return render_to_string("tenancy/_app_cards.html", context)
