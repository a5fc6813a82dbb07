"""Events for changes made with ``save()`` and ``delete()`` anywhere: the admin, pages, services.

Changes made with ``QuerySet.update()`` or ``bulk_create()`` send no signal: the services that
make them emit their events themselves (a release's activation, jobs, notifications, scenarios).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete

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


# Tenants whose deletion is under way in this process. Their apps are deleted before them, and an
# event logged for each would point at a tenant about to go: the deletion failed on its foreign key.
_tenants_being_deleted: set[int] = set()


def _tenant_deleting(sender: Any, instance: Tenant, **_: Any) -> None:
    _tenants_being_deleted.add(instance.pk)


def _tenant_deleted(sender: Any, instance: Tenant, **_: Any) -> None:
    _tenants_being_deleted.discard(instance.pk)


def _app_deleted(sender: Any, instance: App, **_: Any) -> None:
    if instance.tenant_id in _tenants_being_deleted:
        return  # its log goes with its tenant
    event_emit(tenant_id=instance.tenant_id, entity_type="app", entity_id=instance.pk, operation="deletion",
               metadata={"slug": instance.slug})  # fmt: skip


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
    pre_delete.connect(_tenant_deleting, sender=Tenant, dispatch_uid="events.tenant_deleting")
    post_delete.connect(_tenant_deleted, sender=Tenant, dispatch_uid="events.tenant_deleted")
    post_delete.connect(_app_deleted, sender=App, dispatch_uid="events.app_deleted")
    post_save.connect(_release_saved, sender=AppRelease, dispatch_uid="events.release_saved")
