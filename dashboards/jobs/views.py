"""The Jobs pages of a tenant: a live table, a job's page, Cancel and Retry (thin views)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboards.hosting.selectors import app_list_for_member
from dashboards.jobs.models import Job, JobStatus
from dashboards.jobs.pages import job_rows, may_control_job, may_see_job, row_context
from dashboards.jobs.selectors import job_get
from dashboards.jobs.services import job_cancel, job_resubmit
from dashboards.jobs.specs import JobRefused
from dashboards.runtime.frames import is_local_path
from dashboards.scenarios.values import ScenarioError
from dashboards.tenancy.views import tenant_member_required


@tenant_member_required
def job_list_page(request: HttpRequest) -> HttpResponse:
    access = request.tenant_access  # type: ignore[attr-defined]
    filters = {name: request.GET.get(name, "")[:64] for name in ("app", "status", "user")}
    rows = job_rows(tenant=access.tenant, user=request.user, role=access.role, app_slug=filters["app"],
                    status=filters["status"], username=filters["user"])  # fmt: skip
    context = {
        "rows": rows,
        "filters": filters,
        "apps": app_list_for_member(tenant=access.tenant, user=request.user, role=access.role),
        "statuses": JobStatus.choices,
    }
    return render(request, "jobs/job_list.html", context)


@tenant_member_required
def job_detail_page(request: HttpRequest, job_id: int) -> HttpResponse:
    access = request.tenant_access  # type: ignore[attr-defined]
    job = _visible_job(request, job_id)
    return render(request, "jobs/job_detail.html", row_context(job=job, user=request.user, role=access.role))


@tenant_member_required
@require_POST
def job_cancel_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _controllable_job(request, job_id)
    if job_cancel(job=job):
        messages.success(
            request, f"Job #{job.pk} {'stopped' if job.status == JobStatus.STARTED else 'cancelled'}."
        )
    else:
        messages.info(request, f"Job #{job.pk} had already ended.")
    return _back(request)


@tenant_member_required
@require_POST
def job_retry_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _controllable_job(request, job_id)
    if job.is_active or job.status == JobStatus.FINISHED:  # Retry is for what failed or was stopped
        messages.info(request, f"Job #{job.pk} is {job.get_status_display().lower()}: nothing to retry.")
    else:
        try:
            again = job_resubmit(job=job, user_id=request.user.pk)
        except (JobRefused, ScenarioError) as error:  # a busy scenario, a quota: said, not a 500
            messages.error(request, f"Job #{job.pk} was not submitted again: {error}")
        else:
            messages.success(request, f"Job #{job.pk} submitted again as #{again.pk}.")
    return _back(request)


def _visible_job(request: HttpRequest, job_id: int) -> Job:
    access = request.tenant_access  # type: ignore[attr-defined]
    job = job_get(tenant=access.tenant, job_id=job_id)
    if job is None or not may_see_job(job=job, user=request.user, role=access.role):
        raise Http404("No such job.")
    return job


def _controllable_job(request: HttpRequest, job_id: int) -> Job:
    access = request.tenant_access  # type: ignore[attr-defined]
    job = _visible_job(request, job_id)
    if not may_control_job(job=job, user=request.user, role=access.role):
        raise Http404("No such job.")
    return job


def _back(request: HttpRequest) -> HttpResponse:
    """To the page the button was on: a path of this site only. ``redirect()`` would read a bare
    word as a URL name (``next=job_list`` answered 500, after a Retry had resubmitted the job)."""
    target = request.POST.get("next", "")
    if is_local_path(target):
        return HttpResponseRedirect(target)
    return redirect("job_list", tenant_slug=request.tenant_access.tenant.slug)  # type: ignore[attr-defined]
