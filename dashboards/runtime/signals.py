"""Close open sockets within a second when access is removed or the user signs out.

Every change that can take access away asks the sockets of the users it may concern to check
theirs again (one query each): memberships and roles, team members, an app's teams and access
mode or link, an app or a team deleted, a user deactivated.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from dashboards.hosting.models import App
from dashboards.runtime.broadcast import broadcast
from dashboards.runtime.groups import app_group, login_group, user_group
from dashboards.tenancy.models import Membership, Team


def _recheck_users(user_ids: list[int], tenant_id: int | None) -> None:
    """``tenant_id``: the tenant the change is in (None: every tenant of theirs, a user deactivated);
    a live page of another tenant need not show its topics again (live/consumers.py)."""
    message = {"type": "access.changed", "tenant_id": tenant_id}

    def send() -> None:
        for user_id in user_ids:
            broadcast(user_group(user_id), message)

    transaction.on_commit(send)


@receiver([post_save, post_delete], sender=Membership)
def membership_changed(sender: Any, instance: Membership, **kwargs: Any) -> None:
    _recheck_users([instance.user_id], instance.tenant_id)


def _recheck_tenant(tenant_id: int) -> None:
    _recheck_users(
        list(Membership.objects.for_tenant(tenant_id).values_list("user_id", flat=True)), tenant_id
    )


REMOVALS = ("post_remove", "post_clear", "pre_clear")  # pre_clear: the rows are still there to read


@receiver(m2m_changed, sender=Team.members.through)
def team_members_changed(
    sender: Any, instance: Any, action: str, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if action not in REMOVALS:
        return
    if isinstance(instance, Team):
        memberships = instance.members.all() if pk_set is None else Membership.objects.filter(pk__in=pk_set)
        _recheck_users(list(memberships.values_list("user_id", flat=True)), instance.tenant_id)
    elif isinstance(instance, Membership):  # membership.teams.remove(team)
        _recheck_users([instance.user_id], instance.tenant_id)


@receiver(m2m_changed, sender=App.teams.through)
def app_teams_changed(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    """``app.teams.remove(team)`` or ``team.apps.remove(app)``: the team's members may lose the app."""
    if action in REMOVALS and isinstance(instance, App | Team):
        _recheck_tenant(instance.tenant_id)


@receiver(pre_delete, sender=Team)
def team_deleted(sender: Any, instance: Team, **kwargs: Any) -> None:
    # Its links to members and apps go without m2m_changed: read who is concerned while they exist.
    _recheck_users(list(instance.members.values_list("user_id", flat=True)), instance.tenant_id)


def _recheck_link(app_id: int) -> None:
    """Sockets opened through the app's shared link (link visitors belong to no user group)."""
    transaction.on_commit(lambda: broadcast(app_group(app_id), {"type": "link.changed"}))


ACCESS_FIELDS = ("access", "link_token")  # who may open an app (its teams have signals of their own)


@receiver(pre_save, sender=App)
def app_about_to_change(sender: Any, instance: App, update_fields: Any = None, **kwargs: Any) -> None:
    """What the row says of who may open the app, before a save that may change it: read from the
    database, not from the instance, which may have been read long ago or refreshed since."""
    if not instance._state.adding and (update_fields is None or set(ACCESS_FIELDS) & set(update_fields)):
        before = App.objects.filter(pk=instance.pk).values_list(*ACCESS_FIELDS).first()
        instance._access_before_save = before  # type: ignore[attr-defined]


@receiver(post_save, sender=App)
def app_changed(sender: Any, instance: App, **kwargs: Any) -> None:
    """Its access mode or link changed: its tenant's sockets and its link's check theirs. Any other
    edit (its name, description, time limit) takes no one's access away, and asks nothing of them."""
    if "_access_before_save" not in instance.__dict__:  # created, or a save that leaves access alone
        return
    before = instance.__dict__.pop("_access_before_save")
    if before != tuple(getattr(instance, field) for field in ACCESS_FIELDS):
        _recheck_tenant(instance.tenant_id)
        _recheck_link(instance.pk)


@receiver(post_delete, sender=App)
def app_deleted(sender: Any, instance: App, **kwargs: Any) -> None:
    _recheck_tenant(instance.tenant_id)  # their sockets find no app: closed as forbidden
    _recheck_link(instance.pk)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_changed(sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    """Deactivated, or no longer a superuser: checked again. A sign-in (``last_login``) is not."""
    if not created and set(update_fields or ()) != {"last_login"}:
        _recheck_users([instance.pk], None)


@receiver(user_logged_out)
def logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        broadcast(login_group(session_key), {"type": "login.ended"})
