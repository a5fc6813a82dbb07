"""The release an events task runs on a worker (``on_event`` processing, rq emitters).

Read by id (within the event's tenant when it names one), its code loaded once per process; a
release whose code no longer loads is reported in its app's log, and the task is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.runtime.executor import AppLoadError, load_release
from dashboards.runtime.loader import LoadedApp


class ReleaseUnavailable(Exception):
    """The task's release is gone, of another tenant, or does not load: the task is skipped."""


@dataclass(frozen=True)
class TaskRelease:
    pk: int
    tenant_id: int
    app_id: int
    app: LoadedApp


def task_release(release_id: int, *, label: str, tenant_id: int | None = None) -> TaskRelease:
    from dashboards.hosting.models import AppRelease  # noqa: PLC0415 - models load after apps
    from dashboards.hosting.services import app_log_append  # noqa: PLC0415

    rows = AppRelease.objects.filter(pk=release_id)
    if tenant_id is not None:
        rows = rows.filter(tenant_id=tenant_id)
    release = rows.only("pk", "tenant_id", "app_id").first()
    if release is None:
        raise ReleaseUnavailable("no such release" + (" in this tenant" if tenant_id is not None else ""))
    try:
        app = load_release(
            release.pk, lambda: AppRelease.objects.values_list("files", flat=True).get(pk=release.pk)
        )
    except AppLoadError as error:
        app_log_append(app_id=release.app_id, tenant_id=release.tenant_id, release_id=release.pk,
                       lines=[("error", f"{label}: the app's code failed to load: {error}")])  # fmt: skip
        raise ReleaseUnavailable(f"the release does not load: {error}") from error
    return TaskRelease(pk=release.pk, tenant_id=release.tenant_id, app_id=release.app_id, app=app)
