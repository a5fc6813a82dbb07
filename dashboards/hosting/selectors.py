"""Reads of hosted apps, always scoped to one tenant."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dashboards.hosting.models import App, AppAccess, AppLogEntry, AppRelease
from dashboards.tenancy.models import Tenant
from dashboards.tenancy.roles import can_develop_apps


def app_list(*, tenant: Tenant) -> QuerySet[App]:
    return App.objects.for_tenant(tenant).with_active_release().order_by("name")


def app_get(*, tenant: Tenant, slug: str) -> App | None:
    """The app with its tenant and active release, less the release's files and report.

    Every page and socket asks for this; a release's files (up to a few MB of source) are read only
    when a process loads it, and its report only in the admin.
    """
    return App.objects.for_tenant(tenant).with_active_release().filter(slug=slug).first()


def app_for_link(*, token: str) -> App | None:
    """The app a shared link opens: its tenant comes from the link's secret token, the one way in
    for people who are not members (and for visitors who are not signed in). None unless the app
    is shared that way now: switching it to members or teams, or resetting the link, ends it."""
    return App.objects.with_active_release().filter(link_token=token, access=AppAccess.LINK).first()


def app_list_for_member(*, tenant: Tenant, user: Any, role: str) -> list[App]:
    """The apps of a tenant this member may open."""
    return [app for app in app_list(tenant=tenant) if can_open_app(app=app, user=user, role=role)]


def can_open_app(*, app: App, user: Any, role: str | None) -> bool:
    """Tenant members open member apps; team apps need a team (developers and owners always can)."""
    if role is None:
        return False
    if can_develop_apps(role) or app.access in (AppAccess.MEMBERS, AppAccess.LINK):
        return True
    return app.teams.filter(members__user=user).exists()


def release_list(*, app: App) -> QuerySet[AppRelease]:
    return AppRelease.objects.for_tenant(app.tenant).filter(app=app).order_by("-version")


def app_log(*, app: App, limit: int = 200) -> QuerySet[AppLogEntry]:
    entries = AppLogEntry.objects.for_tenant(app.tenant).filter(app=app).select_related("release")
    return entries.order_by("-id")[:limit]
