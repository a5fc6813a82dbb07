from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.decorators import user_passes_test
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard

from dashboards.jobs.models import Job
from dashboards.jobs.services import job_cancel
from dashboards.tenancy.admin_scoping import TenantFilter, TenantScopedAdmin


@admin.register(Job)
class JobAdmin(TenantScopedAdmin):
    """Read-only: jobs are written by the platform; owners and developers may cancel them, and delete
    those that ended (a queued or running job's row is what its worker and its tab go by)."""

    list_display = [
        "pk",
        "job_title",
        "app",
        "tenant",
        "user",
        "status",
        "progress_percent",
        "created_at",
    ]
    list_filter = [TenantFilter, "status"]
    search_fields = ["title", "function", "user__username", "error"]
    list_select_related = ["tenant", "app", "user"]
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["cancel_jobs"]

    @admin.display(description="Job", ordering="title")
    def job_title(self, job: Job) -> str:
        return job.display_title

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_active:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Cancel the selected queued or running jobs")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        tenants = self.viewable_tenants(request)
        done = sum(job_cancel(job=job) for job in queryset.filter(tenant__in=tenants))
        self.message_user(request, f"{done} job(s) cancelled.", messages.SUCCESS)


_superuser_required = user_passes_test(
    lambda user: user.is_active and user.is_superuser, login_url="admin:login"
)


class SuperuserQueueAdmin(QueueAdmin):
    """django-rq's queue and worker views show every tenant's jobs: platform administrators only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def get_urls(self) -> list[Any]:
        return [
            URLPattern(url.pattern, _superuser_required(url.callback), url.default_args, url.name)
            if isinstance(url, URLPattern)
            else url
            for url in super().get_urls()
        ]


admin.site.unregister(Dashboard)
admin.site.register(Dashboard, SuperuserQueueAdmin)
