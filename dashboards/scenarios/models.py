"""A scenario: an app's named set of parameters ("data nodes"), submitted as a job, with its results."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dashboards.hosting.models import App
from dashboards.runtime.json_column import DepthSafeJSONField
from dashboards.scenarios.limits import NAME_MAX_CHARS
from dashboards.tenancy.models import Tenant, TenantScopedQuerySet


class ScenarioStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Scenario(models.Model):
    """Written through ``services`` only (they emit the events); read through ``selectors``.

    ``job`` is the latest submission: only its end writes ``results`` back, so an older job that
    ends late never overwrites a newer run.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="scenarios")
    name = models.CharField(max_length=NAME_MAX_CHARS)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parameters = DepthSafeJSONField(default=dict, blank=True)
    results = DepthSafeJSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ScenarioStatus.choices, default=ScenarioStatus.DRAFT)
    tags = DepthSafeJSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The latest submission.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["tenant", "app", "-updated_at"], name="scenario_tenant_app_time")]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (ScenarioStatus.SUBMITTED, ScenarioStatus.RUNNING)
