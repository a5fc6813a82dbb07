"""Writes of notifications. Jobs, the SDK's ``notify_team``, commands and tests call these.

The rows are the truth and are written in the caller's transaction; the toasts are pushed only
after it commits, so nobody is told about something that was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from dashboards.events.services import event_emit
from dashboards.notifications.models import LINK_MAX_LENGTH, MESSAGE_MAX_LENGTH, Level, Notification
from dashboards.notifications.push import push_to_users, render_toast_html
from dashboards.notifications.selectors import notification_list_for_user
from dashboards.runtime.codecs import storable_text
from dashboards.runtime.frames import is_local_path
from dashboards.runtime.protocol import TOAST_POSITIONS
from dashboards.tenancy.models import ROW_ID_MAX, Membership, Team, Tenant


def notification_send_to_team(
    *,
    team: Team,
    level: str,
    message: str,
    link: str | None = None,
    subject_type: str = "",
    subject_id: int | None = None,
    position: str = "top-right",
    duration: int | None = None,
    except_tab: str = "",
) -> list[Notification]:
    """A notification for every member of the team, and a toast on each one's open pages."""
    return notification_send_to_teams(
        teams=[team], level=level, message=message, link=link, subject_type=subject_type,
        subject_id=subject_id, position=position, duration=duration, except_tab=except_tab,
    )  # fmt: skip


def notification_send_to_teams(
    *,
    teams: Iterable[Team],
    level: str,
    message: str,
    link: str | None = None,
    subject_type: str = "",
    subject_id: int | None = None,
    position: str = "top-right",
    duration: int | None = None,
    except_tab: str = "",
) -> list[Notification]:
    """One notification per person, however many of the teams (all of one tenant) they are in."""
    teams = list(teams)
    if not teams:
        return []
    tenant_ids = {team.tenant_id for team in teams}
    if len(tenant_ids) != 1:
        raise ValueError("The teams of one notification belong to one tenant.")
    tenant = teams[0].tenant
    users = get_user_model().objects.filter(
        memberships__teams__in=teams, memberships__tenant=tenant
    ).distinct()  # fmt: skip
    return notification_send_to_users(
        tenant=tenant, users=users, level=level, message=message, link=link,
        subject_type=subject_type, subject_id=subject_id, position=position, duration=duration,
        except_tab=except_tab,
    )  # fmt: skip


def notification_send_to_users(
    *,
    tenant: Tenant,
    users: Iterable[Any],
    level: str,
    message: str,
    link: str | None = None,
    subject_type: str = "",
    subject_id: int | None = None,
    position: str = "top-right",
    duration: int | None = None,
    except_tab: str = "",
) -> list[Notification]:
    """A notification for each of ``users`` who is a member of ``tenant``; others are skipped.

    ``except_tab``: the app tab that may tell this news (a job's end: ``subject_type`` "job")
    itself; it gets the toast only if it did not (its badge changes at once; see
    ``push.push_to_users``). The inbox entry is written all the same.
    """
    _check(level=level, link=link, position=position, duration=duration, subject_type=subject_type)
    message = _shorten(str(message))
    wanted = {user.pk for user in users}
    member_ids = sorted(
        set(
            Membership.objects.for_tenant(tenant).filter(user_id__in=wanted).values_list("user_id", flat=True)
        )
    )
    with transaction.atomic():
        rows = Notification.objects.bulk_create(
            Notification(
                tenant=tenant,
                user_id=user_id,
                level=level,
                message=message,
                link=link or "",
                subject_type=subject_type,
                subject_id=subject_id,
            )
            for user_id in member_ids
        )
        for row in rows:
            event_emit(tenant_id=tenant.pk, entity_type="notification", entity_id=row.pk,
                       operation="creation", attribute_name="level", attribute_value=level,
                       user_id=row.user_id,
                       metadata={"subject_type": subject_type, "subject_id": subject_id})  # fmt: skip
        if rows:
            toast = render_toast_html(
                level=level, message=message, link=link, position=position, duration=duration
            )
            held_for = subject_id if except_tab and subject_type == "job" else None
            transaction.on_commit(lambda: _push(member_ids, toast, except_tab, held_for))
    return rows


def notification_mark_read(*, user: Any, notification_ids: Iterable[int]) -> int:
    """Mark some of the user's own notifications read; others' ids are ignored. Returns how many."""
    # An id past the database's integers (a URL's 99999999999999999999) is nobody's notification.
    ids = [pk for pk in map(int, notification_ids) if 0 < pk <= ROW_ID_MAX]
    return _mark(notification_list_for_user(user=user).filter(pk__in=ids), user)


def notification_mark_all_read(*, user: Any, tenant: Tenant | None = None) -> int:
    """Mark every unread notification of the user read (of one tenant, when given)."""
    rows = notification_list_for_user(user=user)
    if tenant is not None:
        rows = rows.for_tenant(tenant)  # type: ignore[attr-defined]
    return _mark(rows, user)


def _mark(rows: QuerySet[Notification], user: Any) -> int:
    with transaction.atomic():
        count = rows.filter(read_at__isnull=True).update(read_at=timezone.now())
        if count:
            # The user's other pages get the new badge (no toast).
            transaction.on_commit(lambda: push_to_users(users=[user]))
    return count


def _push(user_ids: list[int], toast: str, except_tab: str = "", job_id: int | None = None) -> None:
    users = get_user_model().objects.filter(pk__in=user_ids)
    push_to_users(users=users, toast_html=toast, except_tab=except_tab, job_id=job_id)


def _check(*, level: str, link: str | None, position: str, duration: int | None, subject_type: str) -> None:
    if level not in Level.values:
        raise ValueError(f"Unknown level {level!r}: one of {', '.join(Level.values)}.")
    if position not in TOAST_POSITIONS:
        raise ValueError(f"Unknown position {position!r}: one of {', '.join(TOAST_POSITIONS)}.")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int) or duration < 0):
        raise ValueError("duration is a number of milliseconds, 0 or more (0: until dismissed).")
    if link and (not is_local_path(link) or len(link) > LINK_MAX_LENGTH):  # the toasts' one check
        raise ValueError("link is a path on this site, such as /t/acme/jobs/12/.")
    if len(subject_type) > 30:
        raise ValueError("subject_type is a short name such as 'job'.")


def _shorten(message: str) -> str:
    """Cut to the limit, with what no store can hold (NUL, a lone surrogate, which PostgreSQL and
    UTF-8 refuse: the handler that sent it was undone) shown as U+FFFD."""
    message = storable_text(message)
    return message if len(message) <= MESSAGE_MAX_LENGTH else message[: MESSAGE_MAX_LENGTH - 1] + "…"
