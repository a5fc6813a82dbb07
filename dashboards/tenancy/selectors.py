"""Reads of tenancy data. Every function takes the tenant or the user it is scoped to."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from dashboards.tenancy.models import Membership, Role, Team, Tenant


@dataclass(frozen=True)
class TenantAccess:
    """A user's standing in one tenant, resolved once per request or connection."""

    tenant: Tenant
    role: str

    @property
    def role_label(self) -> str:
        return Role(self.role).label


def tenant_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Tenant]:
    return Tenant.objects.for_user(user).order_by("name")


def membership_role(*, user: AbstractBaseUser | AnonymousUser, tenant: Tenant) -> str | None:
    """The user's role in the tenant; a superuser counts as an owner everywhere."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.OWNER
    return Membership.objects.for_tenant(tenant).filter(user=user).values_list("role", flat=True).first()


def tenant_access_for_user(*, user: AbstractBaseUser | AnonymousUser, slug: str) -> TenantAccess | None:
    """None when the tenant does not exist *or* the user is not a member: callers answer both alike."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        return None
    role = membership_role(user=user, tenant=tenant)
    if role is None:
        return None
    return TenantAccess(tenant=tenant, role=role)


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.for_tenant(tenant).select_related("user").order_by("user__username")


def team_list(*, tenant: Tenant) -> QuerySet[Team]:
    return Team.objects.for_tenant(tenant).prefetch_related("members__user").order_by("name")
