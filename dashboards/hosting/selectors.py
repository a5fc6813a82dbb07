"""Reads of hosted apps, always scoped to one tenant."""

from __future__ import annotations

from django.db.models import QuerySet

from dashboards.hosting.models import App
from dashboards.tenancy.models import Tenant


def app_list(*, tenant: Tenant) -> QuerySet[App]:
    return App.objects.for_tenant(tenant).order_by("name")
