"""Reads of jobs, always scoped to one tenant."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dashboards.jobs.models import Job
from dashboards.tenancy.models import Tenant


def job_list(
    *,
    tenant: Tenant | int,
    app_ids: list[int] | None = None,
    app_slug: str = "",
    status: str = "",
    username: str = "",
    limit: int = 200,
) -> QuerySet[Job]:
    """The newest jobs of the tenant, narrowed by the filters; ``app_ids``: the apps one may see.

    Without their arguments and results (up to 64 KiB and 256 KiB of JSON each, decoded for every
    row): the list shows a summary of the arguments, and a job's page its result."""
    jobs = (
        Job.objects.for_tenant(tenant)
        .select_related("app", "user", "tenant")
        .defer("arguments", "result", "status_arguments")
    )
    if app_ids is not None:
        jobs = jobs.filter(app_id__in=app_ids)
    if app_slug:
        jobs = jobs.filter(app__slug=app_slug)
    if status:
        jobs = jobs.filter(status=status)
    if username:
        jobs = jobs.filter(user__username=username)
    return jobs.order_by("-created_at", "-id")[:limit]


def job_get(*, tenant: Tenant | int, job_id: Any) -> Job | None:
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        return None
    return Job.objects.for_tenant(tenant).select_related("app", "user", "tenant").filter(pk=job_id).first()


def jobs_of_tab(*, tenant_id: int, app_id: int, user_id: int | None, session_id: str) -> QuerySet[Job]:
    """A tab's jobs: its user's, as its state is (a session id alone never reaches another user's)."""
    jobs = Job.objects.for_tenant(tenant_id).filter(app_id=app_id, session_id=session_id)
    return jobs.filter(user_id=user_id) if user_id is not None else jobs.filter(user__isnull=True)
