"""The admin's half of tenant scoping: a staff member sees and edits only their tenants' rows.

Django's model permissions are not consulted: a membership's role is the authority. Every admin
class for tenant data derives from ``TenantScopedAdmin``; superusers see everything.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from dashboards.tenancy.models import Role, Tenant

VIEW_ROLES = frozenset({Role.OWNER, Role.DEVELOPER})


class TenantFilter(admin.SimpleListFilter):
    """The changelist's tenant filter, offering only the tenants the viewer may see.

    Django's own related-field filter lists every row of the related table, which would show a
    staff member the names of other tenants.
    """

    title = "tenant"
    parameter_name = "tenant"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(tenant.pk), tenant.name) for tenant in model_admin.viewable_tenants(request)]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if not (value.isdecimal() and len(value) <= 18):  # ?tenant=abc: no tenant, not a server error
            return queryset.none()
        return queryset.filter(**{f"{self.model_admin_tenant_field}__pk": int(value)})

    def __init__(self, request: HttpRequest, params: Any, model: Any, model_admin: Any) -> None:
        self.model_admin_tenant_field = model_admin.tenant_field
        super().__init__(request, params, model, model_admin)


class TenantScopedAdmin(admin.ModelAdmin):
    #: Path from the model to its tenant.
    tenant_field: str = "tenant"
    #: Roles that may see the rows, and roles that may add, change and delete them.
    view_roles: frozenset[str] = VIEW_ROLES
    edit_roles: frozenset[str] = frozenset({Role.OWNER})

    # --- which tenants ---
    def viewable_tenants(self, request: HttpRequest) -> models.QuerySet[Tenant]:
        return Tenant.objects.with_role(request.user, self.view_roles)

    def editable_tenants(self, request: HttpRequest) -> models.QuerySet[Tenant]:
        return Tenant.objects.with_role(request.user, self.edit_roles)

    def tenant_of(self, obj: models.Model) -> Tenant:
        value: Any = obj
        for part in self.tenant_field.split("__"):
            value = getattr(value, part)
        return value

    # --- rows ---
    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.tenant_field}__in": self.viewable_tenants(request)})

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new row's tenant chosen already when the user may add rows in one tenant only."""
        initial: dict[str, Any] = super().get_changeform_initial_data(request)
        if self.tenant_field == "tenant" and "tenant" not in initial and not request.user.is_superuser:
            only = list(self.editable_tenants(request).values_list("pk", flat=True)[:2])
            if len(only) == 1:
                initial["tenant"] = only[0]
        return initial

    # --- permissions, from roles ---
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and self.viewable_tenants(request).exists()

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self._allowed(request, obj, self.viewable_tenants(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, None, self.editable_tenants(request))

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self._allowed(request, obj, self.editable_tenants(request))

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self._allowed(request, obj, self.editable_tenants(request))

    def _allowed(
        self, request: HttpRequest, obj: models.Model | None, tenants: models.QuerySet[Tenant]
    ) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        if request.user.is_superuser:
            return True
        if obj is None:
            return tenants.exists()
        return tenants.filter(pk=self.tenant_of(obj).pk).exists()

    # --- choices: never offer another tenant's rows ---
    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("queryset", self._scoped_choices(db_field, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("queryset", self._scoped_choices(db_field, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _scoped_choices(self, db_field: Any, request: HttpRequest) -> models.QuerySet:
        related = db_field.remote_field.model
        queryset = related._default_manager.all()
        if request.user.is_superuser:
            return queryset
        editable = self.editable_tenants(request)
        if related is Tenant:
            return editable
        if hasattr(queryset, "for_tenants"):
            return queryset.for_tenants(editable)
        # Rows outside any tenant (users, say) are never offered: an admin that needs them
        # fills them in itself, as the membership admin does with a typed username.
        return queryset.none()

    # --- after a delete ---
    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any) -> HttpResponse:
        """Back to the list, with its filters (the tenant's among them), as after any admin delete.

        Django sends only those who may *change* rows back to the list, and everyone else to the
        admin's index. Scenarios, jobs and notifications are read-only here (deletable, never
        changed), so every delete of one landed on ``/admin/``. The list stays scoped to the
        viewer's tenants.
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


class DeletesWhatItHolds:
    """A row whose deletion deletes what the platform wrote under it (an app's releases, log, jobs
    and events; a tenant's memberships and apps): allowed to whoever may delete the row itself.
    Django's admin also asks for the delete permission of each of those rows, which nobody has on
    releases (kept for history and rollback): no app or tenant with a release could be deleted."""

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, set[str], Any]:
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)  # type: ignore[misc]
        return deleted, counts, set(), protected


class UniqueWithinTenantForm(forms.ModelForm):
    """A form whose row's tenant is read-only once it exists: Django leaves a field that is not on
    the form out of the unique checks, so a slug or name the tenant already uses reached the
    database (a server error) instead of the form (a message by the field)."""

    def _get_validation_exclusions(self) -> set[str]:
        exclude: set[str] = super()._get_validation_exclusions()  # type: ignore[misc]
        field_errors = getattr(self, "_errors", None) or {}
        if "tenant" not in field_errors:  # a tenant not chosen is said once, by its field
            exclude.discard("tenant")
        return exclude
