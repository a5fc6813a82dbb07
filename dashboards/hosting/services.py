"""Writes of hosted apps and their releases. The admin, `deploy_app` and the tests call these."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from dashboards.events.services import event_emit
from dashboards.hosting.models import App, AppLogEntry, AppRelease, ReleaseStatus, new_link_token
from dashboards.hosting.validation import validate_release_files
from dashboards.runtime.broadcast import broadcast
from dashboards.runtime.codecs import storable_text
from dashboards.runtime.groups import app_group
from dashboards.runtime.limits import APP_LOG_KEEP_LINES, APP_LOG_LINE_CHARS
from dashboards.tenancy.models import Team, Tenant


def app_create_or_update(*, tenant: Tenant, slug: str, name: str, description: str = "") -> App:
    """Idempotent on (tenant, slug): used by seeding and by deploy tooling.

    The slug and name are checked as the admin checks them: an app whose slug no URL can name
    (``bad slug!``) or that the database cannot store (too long) is refused with a ValidationError.
    """
    for field, value in (("slug", slug), ("name", name)):
        try:
            cast("models.Field[Any, Any]", App._meta.get_field(field)).clean(value, None)
        except ValidationError as error:
            reason = " ".join(error.messages)
            raise ValidationError(f"The app's {field} {value!r} is refused: {reason}") from None
    app, _ = App.objects.for_tenant(tenant).update_or_create(
        slug=slug, defaults={"tenant": tenant, "name": name, "description": description}
    )
    return app


def app_set_teams(*, app: App, teams: Iterable[Team]) -> App:
    """The teams whose members open a team-access app: teams of the app's own tenant only.

    A team of another tenant would let its members open the app and receive its jobs' notices.
    """
    teams = list(teams)
    strangers = sorted(team.name for team in teams if team.tenant_id != app.tenant_id)
    if strangers:
        raise ValidationError(
            f"{', '.join(strangers)}: an app's teams must belong to the app's tenant ({app.tenant})."
        )
    app.teams.set(teams)
    return app


def release_create(*, app: App, files: dict[str, str], author: Any) -> AppRelease:
    """Validate (in a separate process) and store a new release, valid or not, with its report.

    The validation (a child process, up to VALIDATION_TIMEOUT_SECONDS) reads nothing from the
    database and runs before any transaction: on SQLite a transaction holds the database's write
    lock from its start, and every other write of the platform would wait for the validation.
    Callers must not wrap this in a transaction of their own (the admin's deploy does not).
    """
    report = validate_release_files(files)
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        version = (locked.releases.aggregate(v=Max("version"))["v"] or 0) + 1
        return AppRelease.objects.create(
            tenant_id=app.tenant_id,
            app=app,
            version=version,
            files=files,
            author=author,
            status=ReleaseStatus.VALID if report.get("ok") else ReleaseStatus.INVALID,
            report=report,
            handlers=report.get("handlers", []),
            state_keys=report.get("state_keys", []),
        )


def release_activate(*, release: AppRelease, actor: Any = None) -> App:
    """Make a valid release the one new sessions get; open sessions are told a new one is out.

    The time is kept on the release (``activated_at``): the rollback goes back to the release that
    was active before the current one.
    """
    if not release.is_valid:
        raise ValidationError(f"{release} is invalid and can never become active.")
    app = release.app
    with transaction.atomic():
        now = timezone.now()
        App.objects.filter(pk=app.pk).update(active_release=release)
        AppRelease.objects.filter(pk=release.pk).update(activated_at=now)  # bookkeeping, not code
        release.activated_at = now
        app.active_release = release
        event_emit(tenant_id=app.tenant_id, entity_type="app", entity_id=app.pk, operation="update",
                   attribute_name="active_release", attribute_value=release.version, app_id=app.pk,
                   user_id=getattr(actor, "pk", None), metadata={"release_id": release.pk})  # fmt: skip
        transaction.on_commit(lambda: _announce_release(app.pk, release.version))
    return app


def app_reset_link(*, app: App) -> App:
    """A new secret for the app's shared link: the old link answers 404 from now on, and the tabs
    opened through it close within a second (runtime/signals.py)."""
    app.link_token = new_link_token()
    app.save(update_fields=["link_token"])
    return app


def app_rollback(*, app: App, actor: Any = None) -> AppRelease:
    """Activate again the release that was active before the current one ("undo the last activation").

    That is the valid release activated most recently, other than the active one, whatever its
    version: releases never activated (a draft deployed with ``--no-activate``) are skipped. A
    second rollback returns to the release rolled back from; to go further back, activate an older
    release from the list.
    """
    current = app.active_release
    if current is None:
        raise ValidationError(f"{app} has no active release to roll back from.")
    previous = (
        AppRelease.objects.for_tenant(app.tenant_id)
        .without_body()
        .filter(app=app, status=ReleaseStatus.VALID, activated_at__isnull=False)
        .exclude(pk=current.pk)
        .order_by("-activated_at", "-version")
        .first()
    )
    if previous is None:
        raise ValidationError(
            f"{app} has no earlier active release to roll back to (v{current.version} is the only one "
            "that was ever active): activate a release from the release list instead."
        )
    release_activate(release=previous, actor=actor)
    return previous


def _announce_release(app_id: int, version: int) -> None:
    broadcast(app_group(app_id), {"type": "release.activated", "version": version})


def app_log_append(
    *, app_id: int, tenant_id: int, release_id: int | None, lines: list[tuple[str, str]]
) -> None:
    """Store lines of an app's log, and keep only the newest APP_LOG_KEEP_LINES."""
    AppLogEntry.objects.bulk_create(
        AppLogEntry(
            tenant_id=tenant_id,
            app_id=app_id,
            release_id=release_id,
            level=level,
            # PostgreSQL refuses NUL, and UTF-8 has no lone surrogates (app code prints what it
            # likes: bytes decoded with surrogateescape, say).
            message=storable_text(message[:APP_LOG_LINE_CHARS]),
        )
        for level, message in lines
    )
    cutoff = (
        AppLogEntry.objects.filter(tenant_id=tenant_id, app_id=app_id)
        .order_by("-id")
        .values_list("id", flat=True)[APP_LOG_KEEP_LINES : APP_LOG_KEEP_LINES + 1]
    )
    if cutoff:
        AppLogEntry.objects.filter(tenant_id=tenant_id, app_id=app_id, id__lte=cutoff[0]).delete()
