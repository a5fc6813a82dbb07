from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from dashboards.tenancy.selectors import tenant_list_for_user


def tenancy(request: HttpRequest) -> dict[str, Any]:
    """The tenant switcher in the page header: the user's tenants and the one being viewed."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "user_tenants": tenant_list_for_user(user=user),
        "current_access": getattr(request, "tenant_access", None),
    }
