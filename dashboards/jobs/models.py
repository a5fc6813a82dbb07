from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from dashboards.hosting.models import App, AppRelease
from dashboards.jobs.limits import JOB_TITLE_MAX_CHARS
from dashboards.jobs.specs import display_title
from dashboards.runtime.json_column import DepthSafeJSONField
from dashboards.tenancy.models import Tenant, TenantScopedQuerySet


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    STARTED = "started", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    STOPPED = "stopped", "Stopped"


ACTIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.STARTED})
ENDED_STATUSES = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED})


class Job(models.Model):
    """A long-running callback of an app, mirrored from its RQ job: the database is the truth.

    A queued job without ``rq_id`` waits for a slot of its tenant's quota; one with ``rq_id`` is
    in RQ's queue. Status changes are conditional updates (``services``), so a job ends once
    however many processes race to end it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="jobs")
    release = models.ForeignKey(AppRelease, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    session_id = models.CharField(max_length=64, blank=True, db_index=True)
    function = models.CharField(max_length=200, help_text="module:function of the release")
    title = models.CharField(
        max_length=JOB_TITLE_MAX_CHARS, blank=True,
        help_text="What people read (toasts, the inbox, the Jobs page); empty: the function's name.",
    )  # fmt: skip
    arguments = DepthSafeJSONField(default=list)
    argument_summary = models.CharField(max_length=250, blank=True)
    status_function = models.CharField(max_length=200, blank=True)
    status_arguments = DepthSafeJSONField(default=list)
    period_ms = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)
    result = DepthSafeJSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    timeout_seconds = models.PositiveIntegerField()
    max_retries = models.PositiveSmallIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=1)
    rq_id = models.CharField(max_length=64, blank=True, db_index=True)
    scenario = models.ForeignKey(
        "scenarios.Scenario", null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions",
        help_text="The scenario this job runs (its end writes the scenario's results).",
    )  # fmt: skip
    for_scenario = models.BooleanField(
        default=False,
        help_text="Submitted for a scenario (kept when the scenario is deleted: no Retry then).",
    )
    status_delivered = models.BooleanField(
        default=False, help_text="The tab's status function has run with the final status."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status"], name="job_tenant_status"),
            # The reconciler's scans (running jobs, admitted or waiting ones) look for a status
            # across tenants, in a table that keeps every job's history.
            models.Index(fields=["status", "created_at"], name="job_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.display_title} #{self.pk} ({self.status})"

    @property
    def function_name(self) -> str:
        return self.function.partition(":")[2] or self.function

    @property
    def display_title(self) -> str:
        """What people read: the app's title for the job, or its function's name made readable
        (a toast saying "build_report finished" named the code, not the work)."""
        return display_title(self.function, self.title)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def progress_percent(self) -> int | None:
        return None if self.progress is None else round(self.progress * 100)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at or timezone.now()
        return (end - self.started_at).total_seconds()
