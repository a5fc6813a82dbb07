"""The live half of a notification: a toast and the inbox badge, pushed to a user's open pages.

A push is a hint, at most once (see ``dashboards.runtime.broadcast``): a page that misses it
shows the right badge on its next load, because the badge is read from the database.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.template.loader import render_to_string

from dashboards.notifications.selectors import notification_unread_count
from dashboards.runtime.broadcast import broadcast
from dashboards.runtime.frames import render_toast, toast_command
from dashboards.runtime.groups import inbox_group

# The message type every consumer in the inbox group handles (app tabs and live pages alike):
# ``html`` holds out-of-band swaps, a toast and/or the badge.
MESSAGE_TYPE = "notify.toast"
BADGE_TEMPLATE = "notifications/_badge.html"


def render_badge(*, count: int, oob: bool = False) -> str:
    return render_to_string(BADGE_TEMPLATE, {"unread_count": count, "oob": oob})


def render_toast_html(
    *, level: str, message: str, link: str | None, position: str, duration: int | None
) -> str:
    return render_toast(toast_command(level, message, duration=duration, position=position, link=link))


def push_to_users(
    *, users: Iterable[object], toast_html: str = "", except_tab: str = "", job_id: int | None = None
) -> None:
    """Send each user's pages the toast (if any) and their own unread count.

    ``except_tab``: the group of one app tab (``runtime.groups.tab_group``) that may tell this
    news itself: the end of job ``job_id``, through its status function, in the tab that started
    it. That tab gets the badge at once and the toast only if its status function showed none
    (``runtime.end_toasts``), so its user does not read the same end twice there. The group names
    the tab's user, so no other person's pages match it.
    """
    for user in users:
        badge = render_badge(count=notification_unread_count(user=user), oob=True)
        message: dict[str, str | int] = {"type": MESSAGE_TYPE, "html": toast_html + badge}
        if except_tab and toast_html and job_id is not None:
            message.update(except_tab=except_tab, job_id=job_id, toast=toast_html, badge=badge)
        broadcast(inbox_group(user.pk), message)  # type: ignore[attr-defined]
