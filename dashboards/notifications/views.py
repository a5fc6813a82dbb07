"""The inbox: thin views over the notification selectors and services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboards.notifications.selectors import notification_inbox, notification_unread_count
from dashboards.notifications.services import notification_mark_all_read, notification_mark_read


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    context = {
        "notifications": notification_inbox(user=request.user),
        "unread_count": notification_unread_count(user=request.user),
    }
    return render(request, "notifications/inbox.html", context)


@login_required
@require_POST
def inbox_mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(user=request.user, notification_ids=[notification_id])
    return redirect("inbox")


@login_required
@require_POST
def inbox_mark_all_read(request: HttpRequest) -> HttpResponse:
    notification_mark_all_read(user=request.user)
    return redirect("inbox")
