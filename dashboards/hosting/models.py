from __future__ import annotations

from django.core.validators import validate_slug
from django.db import models

from dashboards.tenancy.models import Tenant, TenantScopedQuerySet


class App(models.Model):
    """A dashboard app of one tenant; its code arrives as releases (see the dashboard-apps issue)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="apps")
    slug = models.SlugField(max_length=50, validators=[validate_slug])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["tenant__name", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="app_slug_unique_in_tenant")]

    def __str__(self) -> str:
        return self.name
