"""Writes of hosted apps."""

from __future__ import annotations

from dashboards.hosting.models import App
from dashboards.tenancy.models import Tenant


def app_create_or_update(*, tenant: Tenant, slug: str, name: str, description: str = "") -> App:
    """Idempotent on (tenant, slug): used by seeding and by deploy tooling."""
    app, _ = App.objects.for_tenant(tenant).update_or_create(
        slug=slug, defaults={"tenant": tenant, "name": name, "description": description}
    )
    return app
