"""Reads of scenarios, always scoped to one tenant (``Scenario.objects.for_tenant``)."""

from __future__ import annotations

from typing import Any

from django.utils.timezone import localtime

from dashboards.hosting.selectors import app_list_for_member
from dashboards.scenarios.limits import PAGE_LIST_MAX, SESSION_LIST_MAX
from dashboards.scenarios.models import Scenario
from dashboards.scenarios.values import Scenario as ScenarioValue
from dashboards.scenarios.values import ScenarioNotFound, check_id, summary
from dashboards.tenancy.models import Tenant


def scenario_list(
    *,
    tenant: Tenant | int,
    app_ids: list[int] | None = None,
    app_id: int | None = None,
    app_slug: str = "",
    status: str = "",
    tag: str = "",
    limit: int = PAGE_LIST_MAX,
) -> list[Scenario]:
    """The tenant's scenarios, most recently changed first; ``app_ids``: the apps one may see."""
    rows = Scenario.objects.for_tenant(tenant).select_related("app", "owner", "tenant", "job")
    if app_ids is not None:
        rows = rows.filter(app_id__in=app_ids)
    if app_id is not None:
        rows = rows.filter(app_id=app_id)
    if app_slug:
        rows = rows.filter(app__slug=app_slug)
    if status:
        rows = rows.filter(status=status)
    rows = rows.order_by("-updated_at", "-id")
    if tag:  # JSON containment differs between databases: filter a bounded list here
        return [row for row in rows[: limit * 5] if tag in (row.tags or [])][:limit]
    return list(rows[:limit])


def scenario_list_for_member(
    *, tenant: Tenant, user: Any, role: str, app_slug: str = "", status: str = ""
) -> list[Scenario]:
    """The Scenarios page: scenarios of the apps this member may open."""
    app_ids = [app.pk for app in app_list_for_member(tenant=tenant, user=user, role=role)]
    return scenario_list(tenant=tenant, app_ids=app_ids, app_slug=app_slug, status=status)


def scenario_get(*, tenant: Tenant | int, scenario_id: Any, app_id: int | None = None) -> Scenario | None:
    """One scenario of the tenant (of one app when ``app_id`` is given); None for anything else."""
    try:
        pk = check_id(scenario_id)
    except ScenarioNotFound:
        return None
    rows = Scenario.objects.for_tenant(tenant).select_related("app", "owner", "tenant", "job")
    if app_id is not None:
        rows = rows.filter(app_id=app_id)
    return rows.filter(pk=pk).first()


def scenario_value(row: Scenario) -> ScenarioValue:
    """The snapshot app code receives."""
    return ScenarioValue(
        id=row.pk, name=row.name, status=row.status, parameters=dict(row.parameters or {}),
        results=row.results, tags=tuple(row.tags or ()), owner=_username(row),
        error=row.error, job_id=row.job_id, created_at=row.created_at, updated_at=row.updated_at,
        submitted_at=row.submitted_at, completed_at=row.completed_at,
    )  # fmt: skip


def scenario_summaries(*, tenant_id: int, app_id: int) -> list[dict[str, Any]]:
    """What an app's scenario components show (the ``scenarios`` state key): small dicts, newest first."""
    rows = (
        Scenario.objects.for_tenant(tenant_id)
        .filter(app_id=app_id)
        .select_related("owner")
        .defer("parameters", "results")
        .order_by("-updated_at", "-id")[:SESSION_LIST_MAX]
    )
    return [
        summary(
            id=row.pk,
            name=row.name,
            status=row.status,
            owner=_username(row),
            tags=row.tags,
            updated_at=localtime(row.updated_at),
        )
        for row in rows
    ]


def _username(row: Scenario) -> str:
    return row.owner.get_username() if row.owner_id and row.owner else ""
