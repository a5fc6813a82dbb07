from __future__ import annotations

from django.contrib import admin

from dashboards.hosting.models import App
from dashboards.tenancy.admin_scoping import VIEW_ROLES, TenantFilter, TenantScopedAdmin


@admin.register(App)
class AppAdmin(TenantScopedAdmin):
    edit_roles = VIEW_ROLES  # owners and developers deploy and edit apps
    list_display = ["name", "slug", "tenant", "created_at"]
    list_filter = [TenantFilter]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
