"""What the Jobs pages show, for views and for the live ``jobs`` topic alike (plain functions)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from dashboards.hosting.selectors import app_list_for_member, can_open_app
from dashboards.jobs.models import Job, JobStatus
from dashboards.jobs.selectors import job_get, job_list
from dashboards.tenancy.roles import can_develop_apps
from dashboards.tenancy.selectors import membership_role


def may_see_job(*, job: Job, user: Any, role: str | None) -> bool:
    """Members see the jobs of the apps they may open."""
    return can_open_app(app=job.app, user=user, role=role)


def may_control_job(*, job: Job, user: Any, role: str | None) -> bool:
    """Who started it, and the tenant's developers and owners, may cancel or retry it."""
    return role is not None and (job.user_id == user.pk or can_develop_apps(role))


def visible_app_ids(*, tenant: Any, user: Any, role: str) -> list[int]:
    return [app.pk for app in app_list_for_member(tenant=tenant, user=user, role=role)]


def row_context(*, job: Job, user: Any, role: str | None) -> dict[str, Any]:
    return {"job": job, "can_control": may_control_job(job=job, user=user, role=role),
            "statuses": JobStatus}  # fmt: skip


def render_jobs_topic(*, user: Any, tenant: Any, data: dict[str, Any]) -> str:
    """The live ``jobs`` topic: a job's row (and its outcome) swapped into the pages showing it.

    ``data`` is a job event. A progress event carries its figures, so only the progress cell is
    rendered from it; any other change is re-read from the database, the truth. ``{}`` (a page
    that may have missed events) re-renders the whole table.
    """
    role = membership_role(user=user, tenant=tenant)
    if not data:
        return _render_all_rows(user=user, tenant=tenant, role=role)
    job = job_get(tenant=tenant, job_id=data.get("entity_id"))
    if job is None or not may_see_job(job=job, user=user, role=role):
        return ""
    if data.get("attribute_name") == "progress":
        figures = data.get("attribute_value") or {}
        job.progress, job.message = figures.get("fraction"), str(figures.get("message") or "")
        return render_to_string("jobs/_job_progress.html", {"job": job, "oob": True})
    oob: bool | str = "new" if data.get("operation") == "creation" else True
    html = render_to_string("jobs/_job_row.html", row_context(job=job, user=user, role=role) | {"oob": oob})
    if not job.is_active:
        html += render_to_string("jobs/_job_outcome.html", {"job": job, "oob": True})
    return html


def job_rows(*, tenant: Any, user: Any, role: str, **filters: Any) -> list[dict[str, Any]]:
    """The rows of the Jobs table: the newest jobs of the apps the user may open, narrowed by filters."""
    jobs = job_list(tenant=tenant, app_ids=visible_app_ids(tenant=tenant, user=user, role=role), **filters)
    return [row_context(job=job, user=user, role=role) for job in jobs]


def _render_all_rows(*, user: Any, tenant: Any, role: str | None) -> str:
    if role is None:
        return ""
    rows = job_rows(tenant=tenant, user=user, role=role)
    return render_to_string("jobs/_job_rows.html", {"rows": rows, "oob": True})
