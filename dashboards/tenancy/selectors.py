"""Reads of tenancy data. Every function takes the tenant or the user it is scoped to."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
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


def tenant_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Tenant]:
    return Tenant.objects.for_user(user).order_by("name")


def membership_role(*, user: User | AnonymousUser, tenant: Tenant) -> str | None:
    """The user's role in the tenant; a superuser counts as an owner everywhere."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.OWNER
    return Membership.objects.for_tenant(tenant).filter(user=user).values_list("role", flat=True).first()


def tenant_access_for_user(*, user: User | AnonymousUser, slug: str) -> TenantAccess | None:
    """None when the tenant does not exist *or* the user is not a member: callers answer both alike.

    One query for a member (every page and socket of an app asks): the membership with its tenant.
    """
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        tenant = Tenant.objects.filter(slug=slug).first()
        return TenantAccess(tenant=tenant, role=Role.OWNER) if tenant is not None else None
    membership = (
        Membership.objects.for_tenants(Tenant.objects.filter(slug=slug))
        .filter(user=user)
        .select_related("tenant")
        .only("role", "tenant")
        .first()
    )
    if membership is None:
        return None
    return TenantAccess(tenant=membership.tenant, role=membership.role)


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.for_tenant(tenant).select_related("user").order_by("user__username")


def team_list(*, tenant: Tenant) -> QuerySet[Team]:
    return Team.objects.for_tenant(tenant).prefetch_related("members__user").order_by("name")
