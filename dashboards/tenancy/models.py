from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class Role(models.TextChoices):
    """What a member may do inside one tenant; each role includes the ones below it."""

    OWNER = "owner", "Owner"
    DEVELOPER = "developer", "Developer"
    VIEWER = "viewer", "Viewer"


# Roles that reach the Django admin for their tenant.
STAFF_ROLES = frozenset({Role.OWNER, Role.DEVELOPER})
# The largest id a row can have (BigAutoField): an id from a URL past it names no row.
ROW_ID_MAX = 2**63 - 1


class TenantQuerySet(models.QuerySet["Tenant"]):
    def for_user(self, user: User | AnonymousUser) -> TenantQuerySet:
        """Tenants the user belongs to (every tenant for a superuser, none for anonymous)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(memberships__user=user).distinct()

    def with_role(self, user: User | AnonymousUser, roles: frozenset[str]) -> TenantQuerySet:
        """Tenants where the user holds one of ``roles`` (every tenant for a superuser)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(memberships__user=user, memberships__role__in=roles).distinct()


class Tenant(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantScopedQuerySet(models.QuerySet):
    """The one scoping path for rows that belong to a tenant: every read of them starts here."""

    tenant_field = "tenant"

    def for_tenant(self, tenant: Tenant | int) -> Self:  # a row or its id
        return self.filter(**{self.tenant_field: tenant})

    def for_tenants(self, tenants: models.QuerySet[Tenant, Tenant]) -> Self:
        return self.filter(**{f"{self.tenant_field}__in": tenants})


class Membership(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["tenant__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="one_membership_per_user_and_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.get_role_display()})"


class Team(models.Model):
    """A named group of a tenant's members; notifications target teams."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(Membership, related_name="teams", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["tenant__name", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="team_name_unique_in_tenant")]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant})"
