from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from dashboards.scenarios.models import Scenario
from dashboards.scenarios.services import scenario_delete
from dashboards.tenancy.admin_scoping import TenantFilter, TenantScopedAdmin


@admin.register(Scenario)
class ScenarioAdmin(TenantScopedAdmin):
    """Read-only (apps write scenarios through the SDK); owners may delete, which emits the event."""

    list_display = ["pk", "name", "app", "tenant", "owner", "status", "updated_at"]
    list_filter = [TenantFilter, "status"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["tenant", "app", "owner"]
    readonly_fields = [f.name for f in Scenario._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Scenario) -> None:
        scenario_delete(scenario=obj, actor_id=request.user.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Scenario]) -> None:
        for scenario in queryset:
            scenario_delete(scenario=scenario, actor_id=request.user.pk)
