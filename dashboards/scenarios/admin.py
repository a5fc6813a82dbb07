from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

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

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any) -> HttpResponse:
        """Back to the list, with its filters (the tenant's among them), as after any admin delete.

        Django sends only those who may *change* rows to the list, and others to the admin's
        index; nobody may change a scenario (read-only), so every delete landed on ``/admin/``.
        Who may delete a scenario may view the list, which stays scoped to their tenants.
        """
        response = super().response_delete(request, obj_display, obj_id)
        if not isinstance(response, HttpResponseRedirect) or not self.has_view_permission(request):
            return response  # a popup's answer; or a user with nothing left to list
        changelist = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist", current_app=self.admin_site.name
        )
        filters: dict[str, Any] = {
            "preserved_filters": self.get_preserved_filters(request),
            "opts": self.opts,
        }
        return HttpResponseRedirect(add_preserved_filters(filters, changelist))
