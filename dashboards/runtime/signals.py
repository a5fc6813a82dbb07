"""Close open sockets within a second when access is removed or the user signs out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from dashboards.hosting.models import App
from dashboards.runtime.broadcast import broadcast
from dashboards.runtime.groups import login_group, user_group
from dashboards.tenancy.models import Membership, Team


def _recheck_users(user_ids: list[int]) -> None:
    def send() -> None:
        for user_id in user_ids:
            broadcast(user_group(user_id), {"type": "access.changed"})

    transaction.on_commit(send)


@receiver([post_save, post_delete], sender=Membership)
def membership_changed(sender: Any, instance: Membership, **kwargs: Any) -> None:
    _recheck_users([instance.user_id])


@receiver(m2m_changed, sender=Team.members.through)
def team_members_changed(
    sender: Any, instance: Any, action: str, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if action not in ("post_remove", "post_clear", "pre_clear"):
        return
    if isinstance(instance, Team):
        memberships = instance.members.all() if pk_set is None else Membership.objects.filter(pk__in=pk_set)
        _recheck_users(list(memberships.values_list("user_id", flat=True)))


@receiver(post_save, sender=App)
def app_changed(sender: Any, instance: App, created: bool, **kwargs: Any) -> None:
    if not created:
        user_ids = list(Membership.objects.for_tenant(instance.tenant_id).values_list("user_id", flat=True))
        _recheck_users(user_ids)


@receiver(user_logged_out)
def logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        broadcast(login_group(session_key), {"type": "login.ended"})
