"""A scenario's submission as its job moves: called by the jobs services, in their transaction.

``dashboards.jobs.services`` calls these where a job's status changes (a conditional update that
exactly one process wins), so the scenario moves with its job in the same transaction: a job
that ends finished leaves a completed scenario with its results, or neither. Only the scenario's
latest submission (``Scenario.job``) writes back; an older job ending late changes nothing.

This module never imports the jobs services (they import it).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from dashboards.scenarios.emit import scenario_event
from dashboards.scenarios.models import Scenario, ScenarioStatus

# How a job's end reads on its scenario.
_FAILED_BECAUSE = {"canceled": "the submission was canceled", "stopped": "the submission was stopped"}


def scenario_job_submitted(*, job: Any) -> None:
    """A job of a scenario was created (a submission, or Retry on the Jobs page): it is the latest."""
    scenario = (
        Scenario.objects.for_tenant(job.tenant_id).select_for_update().filter(pk=job.scenario_id).first()
    )
    if scenario is None:
        return
    now = timezone.now()
    Scenario.objects.filter(pk=scenario.pk).update(
        job=job,
        status=ScenarioStatus.SUBMITTED,
        error="",
        submitted_at=now,
        completed_at=None,
        updated_at=now,
    )
    scenario_event(scenario, "scenario", "submission", user_id=job.user_id, job_id=job.pk)
    scenario_event(scenario, "submission", "creation", entity_id=job.pk, user_id=job.user_id, job_id=job.pk)
    _emit_status(scenario, ScenarioStatus.SUBMITTED, job, submission=False)  # its creation says it


def scenario_job_started(*, job: Any) -> None:
    scenario = _latest_of(job)
    if scenario is None:
        return
    Scenario.objects.filter(pk=scenario.pk).update(status=ScenarioStatus.RUNNING, updated_at=timezone.now())
    _emit_status(scenario, ScenarioStatus.RUNNING, job)


def scenario_job_ended(*, job: Any) -> None:
    """Finished: the result becomes ``results`` (completed); any other end: failed, with why."""
    scenario = _latest_of(job)
    if scenario is None:
        return
    now = timezone.now()
    if job.status == "finished":
        fields = {"status": ScenarioStatus.COMPLETED, "results": job.result, "error": ""}
    else:
        fields = {
            "status": ScenarioStatus.FAILED,
            "error": job.error or _FAILED_BECAUSE.get(job.status, job.status),
        }
    Scenario.objects.filter(pk=scenario.pk).update(completed_at=now, updated_at=now, **fields)
    if job.status == "finished":
        scenario_event(scenario, "scenario", "update", attribute_name="results", value=job.result,
                       user_id=job.user_id, job_id=job.pk)  # fmt: skip
    _emit_status(scenario, fields["status"], job)


def _latest_of(job: Any) -> Scenario | None:
    """The scenario whose latest submission this job is, locked (None for other jobs)."""
    if getattr(job, "scenario_id", None) is None:
        return None
    return Scenario.objects.for_tenant(job.tenant_id).select_for_update().filter(job_id=job.pk).first()


def _emit_status(scenario: Scenario, status: str, job: Any, *, submission: bool = True) -> None:
    user_id = getattr(job, "user_id", None)
    job_id = getattr(job, "pk", None)
    scenario_event(scenario, "scenario", "update", attribute_name="status", value=str(status),
                   user_id=user_id, job_id=job_id)  # fmt: skip
    if submission and job_id is not None:
        scenario_event(scenario, "submission", "update", entity_id=job_id, attribute_name="status",
                       value=str(status), user_id=user_id, job_id=job_id)  # fmt: skip
