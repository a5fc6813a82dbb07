"""Every model with a tenant key is read through the one scoping path, and that path filters."""

from __future__ import annotations

from django.apps import apps

from dashboards.tenancy.models import TenantScopedQuerySet


def tenant_scoped_models() -> list:
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("dashboards.") and any(f.name == "tenant" for f in model._meta.fields)
    ]


def test_there_are_tenant_scoped_models() -> None:
    names = {model.__name__ for model in tenant_scoped_models()}
    assert {"Membership", "Team", "App"} <= names


def test_every_tenant_model_uses_the_scoping_queryset() -> None:
    for model in tenant_scoped_models():
        assert isinstance(model._default_manager.all(), TenantScopedQuerySet), model


def test_the_scoping_path_filters_every_model(world) -> None:
    for model in tenant_scoped_models():
        rows = model._default_manager.for_tenant(world.acme)
        assert rows.exists(), f"the demo world has no {model.__name__} rows to check"
        assert set(rows.values_list("tenant_id", flat=True)) == {world.acme.pk}
