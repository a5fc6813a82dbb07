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
    from dashboards.hosting.models import App
    from dashboards.hosting.services import app_log_append
    from dashboards.jobs.services import job_submit
    from dashboards.notifications.services import notification_send_to_users

    for app in App.objects.all():  # every tenant gets a log line, a job and a notification too
        app_log_append(app_id=app.pk, tenant_id=app.tenant_id, release_id=None, lines=[("info", "hello")])
        job_submit(tenant_id=app.tenant_id, app_id=app.pk, release_id=app.active_release_id, user_id=None,
                   session_id="", function="main:anything", arguments=[])  # fmt: skip
        member = app.tenant.memberships.first().user
        notification_send_to_users(tenant=app.tenant, users=[member], level="info", message="hi")
    for model in tenant_scoped_models():
        rows = model._default_manager.for_tenant(world.acme)
        assert rows.exists(), f"the demo world has no {model.__name__} rows to check"
        assert set(rows.values_list("tenant_id", flat=True)) == {world.acme.pk}


def test_links_between_tenant_rows_never_cross_tenants_even_from_code(world) -> None:
    """``app.teams.add`` and ``team.members.add`` in code (a shell, a migration) skip the services'
    checks; the relation itself refuses rows of another tenant, in both directions."""
    import pytest
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from dashboards.hosting.models import App
    from dashboards.tenancy.models import Membership, Team

    acme_app = App.objects.for_tenant(world.acme).first()
    acme_team = Team.objects.for_tenant(world.acme).first()
    globex_team = Team.objects.for_tenant(world.globex).first()
    globex_member = Membership.objects.for_tenant(world.globex).first()
    before = set(acme_app.teams.values_list("pk", flat=True))
    with pytest.raises(ValidationError, match="same tenant"), transaction.atomic():
        acme_app.teams.add(globex_team)
    with pytest.raises(ValidationError, match="same tenant"), transaction.atomic():
        globex_team.apps.add(acme_app)
    with pytest.raises(ValidationError, match="same tenant"), transaction.atomic():
        acme_app.teams.set([acme_team, globex_team])
    with pytest.raises(ValidationError, match="same tenant"), transaction.atomic():
        acme_team.members.add(globex_member)
    with pytest.raises(ValidationError, match="same tenant"), transaction.atomic():
        globex_member.teams.add(acme_team)
    assert set(acme_app.teams.values_list("pk", flat=True)) == before
    acme_app.teams.add(acme_team)  # within the tenant, as before
    assert acme_app.teams.filter(pk=acme_team.pk).exists()
