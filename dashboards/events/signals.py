"""Events for changes made with ``save()`` and ``delete()`` anywhere: the admin, pages, services.

Changes made with ``QuerySet.update()`` or ``bulk_create()`` send no signal: the services that
make them emit their events themselves (a release's activation, jobs, notifications, scenarios).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from dashboards.events.services import event_emit
from dashboards.hosting.models import App, AppRelease
from dashboards.tenancy.models import Tenant


def _app_saved(sender: Any, instance: App, created: bool, update_fields: Any = None, **_: Any) -> None:
    fields = sorted(update_fields or ())
    event_emit(
        tenant_id=instance.tenant_id,
        entity_type="app",
        entity_id=instance.pk,
        operation="creation" if created else "update",
        attribute_name=fields[0] if len(fields) == 1 else "",
        metadata={"slug": instance.slug},
        app_id=instance.pk,
    )


def _app_deleted(sender: Any, instance: App, **_: Any) -> None:
    """Logged once the deletion is committed, and only if the tenant is still there: an app deleted
    with its tenant would log an event pointing at a tenant about to go (the deletion failed on
    its foreign key)."""
    tenant_id, app_id, slug = instance.tenant_id, instance.pk, instance.slug

    def log() -> None:
        if Tenant.objects.filter(pk=tenant_id).exists():
            event_emit(tenant_id=tenant_id, entity_type="app", entity_id=app_id, operation="deletion",
                       metadata={"slug": slug})  # fmt: skip

    transaction.on_commit(log, robust=True)


def _release_saved(sender: Any, instance: AppRelease, created: bool, **_: Any) -> None:
    event_emit(
        tenant_id=instance.tenant_id,
        entity_type="release",
        entity_id=instance.pk,
        operation="creation" if created else "update",
        attribute_name="status",
        attribute_value=instance.status,
        metadata={"version": instance.version},
        app_id=instance.app_id,
        user_id=instance.author_id,
    )


def connect() -> None:
    post_save.connect(_app_saved, sender=App, dispatch_uid="events.app_saved")
    post_delete.connect(_app_deleted, sender=App, dispatch_uid="events.app_deleted")
    post_save.connect(_release_saved, sender=AppRelease, dispatch_uid="events.release_saved")
