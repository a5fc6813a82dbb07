from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from dashboards.tenancy import services
from dashboards.tenancy.admin_scoping import (
    DeletesWhatItHolds,
    TenantFilter,
    TenantScopedAdmin,
    UniqueWithinTenantForm,
)
from dashboards.tenancy.models import Membership, Role, Team, Tenant


@admin.register(Tenant)
class TenantAdmin(DeletesWhatItHolds, TenantScopedAdmin):
    tenant_field = "pk"
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def tenant_of(self, obj: Any) -> Tenant:
        return obj

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        queryset = Tenant.objects.all()
        return (
            queryset if request.user.is_superuser else queryset.filter(pk__in=self.viewable_tenants(request))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request: HttpRequest, obj: Tenant | None = None) -> list[str]:
        return [] if request.user.is_superuser or obj is None else ["slug"]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Tenant | None = None) -> dict[str, Any]:
        """None for a slug shown read-only: Django would ask the form for the field, and fail."""
        if "slug" in self.get_readonly_fields(request, obj):
            return {}
        return super().get_prepopulated_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        if change:
            obj.save()
        else:
            created = services.tenant_create(slug=obj.slug, name=obj.name, actor=request.user)
            obj.pk = created.pk


class MembershipAddForm(forms.ModelForm):
    """Owners add people by username: the admin never lists the platform's other accounts."""

    username = forms.CharField(max_length=150, help_text="An existing account, or a new one to create.")
    email = forms.EmailField(required=False, help_text="For a new account.")
    password = forms.CharField(
        required=False, widget=forms.PasswordInput, help_text="Initial password for a new account."
    )

    class Meta:
        model = Membership
        fields = ["tenant", "role"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tenant, username = cleaned.get("tenant"), cleaned.get("username")
        if (
            tenant
            and username
            and Membership.objects.for_tenant(tenant).filter(user__username=username).exists()
        ):
            raise ValidationError(f"{username} is already a member of {tenant}.")
        return cleaned


class MembershipChangeForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role"]

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        services.membership_check_role_change(membership=self.instance, role=role)
        return role


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", TenantFilter]
    search_fields = ["user__username", "user__email"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # An owner may add any account by its username; searching by e-mail told them its address.
        return self.search_fields if request.user.is_superuser else ["user__username"]

    def get_form(
        self, request: HttpRequest, obj: Membership | None = None, change: bool = False, **kwargs: Any
    ):
        kwargs["form"] = MembershipChangeForm if obj else MembershipAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return ["tenant", "user", "role"] if obj else ["tenant", "username", "email", "password", "role"]

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> list[str]:
        return ["tenant", "user"] if obj else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and services.membership_is_last_owner(membership=obj):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if change:
            services.membership_change_role(
                membership=obj, role=form.cleaned_data["role"], actor=request.user
            )
            return
        user, _ = services.user_get_or_create(
            username=form.cleaned_data["username"],
            email=form.cleaned_data.get("email", ""),
            password=form.cleaned_data.get("password") or None,
        )
        created = services.membership_add(tenant=obj.tenant, user=user, role=obj.role, actor=request.user)
        obj.pk, obj.user = created.pk, user

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_remove(membership=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset:
            try:
                services.membership_remove(membership=membership, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{membership}: {error.messages[0]}", messages.ERROR)


class TeamForm(UniqueWithinTenantForm):
    class Meta:
        model = Team
        fields = ["tenant", "name", "members"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tenant = cleaned.get("tenant") or getattr(self.instance, "tenant", None)
        strangers = [m for m in cleaned.get("members", []) if tenant and m.tenant_id != tenant.pk]
        if strangers:
            raise ValidationError("A team's members must belong to the team's tenant.")
        return cleaned


@admin.register(Team)
class TeamAdmin(TenantScopedAdmin):
    form = TeamForm
    list_display = ["name", "tenant", "member_count"]
    list_filter = [TenantFilter]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    def get_readonly_fields(self, request: HttpRequest, obj: Team | None = None) -> list[str]:
        return ["tenant"] if obj else []

    @admin.display(description="Members")
    def member_count(self, team: Team) -> int:
        return team.members.count()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        services.team_set_members(
            team=form.instance, members=form.cleaned_data["members"], actor=request.user
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


__all__ = ["MembershipAdmin", "Role", "TeamAdmin", "TenantAdmin"]
