from __future__ import annotations

import secrets
from typing import Any, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from dashboards.tenancy.models import Team, Tenant, TenantScopedQuerySet

DEFAULT_HANDLER_TIMEOUT_SECONDS = 10


# A release's body: read only where it is used, loading a release (files) and the admin (both).
# Up to a few MB of source: every page and socket reads apps and releases without it.
RELEASE_BODY_FIELDS = ("files", "report")


class AppQuerySet(TenantScopedQuerySet):
    def with_active_release(self) -> Self:
        """Each app with its tenant and its active release in the same query, less the release's body."""
        return self.select_related("tenant", "active_release").defer(
            *(f"active_release__{name}" for name in RELEASE_BODY_FIELDS)
        )


class AppReleaseQuerySet(TenantScopedQuerySet):
    def without_body(self) -> Self:
        return self.defer(*RELEASE_BODY_FIELDS)


# What a shared link's token can look like (URL-safe base64, as new_link_token makes them): the
# routes of the link's page and socket take nothing else.
LINK_TOKEN_PATTERN = r"[A-Za-z0-9_-]{16,64}"  # noqa: S105 - a pattern, not a secret


def new_link_token() -> str:
    return secrets.token_urlsafe(24)


class AppAccess(models.TextChoices):
    MEMBERS = "members", "All members of the tenant"
    TEAMS = "teams", "Members of chosen teams"
    LINK = "link", "Anyone with the link"


class App(models.Model):
    """A dashboard app of one tenant. Its code arrives as immutable releases; one is active."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="apps")
    slug = models.SlugField(max_length=50)  # a SlugField checks the slug already: once, one message
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    access = models.CharField(max_length=10, choices=AppAccess.choices, default=AppAccess.MEMBERS)
    teams = models.ManyToManyField(Team, blank=True, related_name="apps", help_text="For team access.")
    link_token = models.CharField(max_length=64, default=new_link_token, editable=False, unique=True)
    handler_timeout_seconds = models.PositiveIntegerField(
        default=DEFAULT_HANDLER_TIMEOUT_SECONDS,
        validators=[MinValueValidator(1), MaxValueValidator(300)],
        help_text="Wall-clock limit of one handler run; past it the user is told and the session goes on.",
    )
    active_release = models.ForeignKey(
        "AppRelease", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppQuerySet.as_manager()

    class Meta:
        ordering = ["tenant__name", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="app_slug_unique_in_tenant")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.tenant_changed():
            raise ValueError(f"{self}: an app's tenant cannot change once it is created.")
        super().save(*args, **kwargs)
        self._loaded_tenant_id = self.tenant_id

    # An app never changes tenant: its releases, log, jobs and scenarios carry the tenant they were
    # made in, and would stay behind (reachable by the old tenant's developers). The tenant it was
    # read with is kept, and a change is refused by clean() (forms) and by save() (any other path).
    _loaded_tenant_id: int | None = None

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> Self:
        app = super().from_db(db, field_names, values, **kwargs)
        app._loaded_tenant_id = app.__dict__.get("tenant_id")
        return app

    def tenant_changed(self) -> bool:
        return self._loaded_tenant_id is not None and self.tenant_id != self._loaded_tenant_id

    def clean(self) -> None:
        super().clean()
        if self.tenant_changed():
            raise ValidationError(
                {"tenant": "An app's tenant cannot change: its releases, log and jobs belong to it."}
            )


class ReleaseStatus(models.TextChoices):
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"


class AppRelease(models.Model):
    """One immutable version of an app's code, with the report of its validation.

    ``files`` maps module file names (``main.py``, ``helpers.py``, ``page.html``) to their text;
    ``main.py`` is the entry module. An invalid release is kept with its report and can never
    become active.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="releases")
    version = models.PositiveIntegerField()
    files = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=ReleaseStatus.choices)
    report = models.JSONField(default=dict)
    handlers = models.JSONField(default=list)
    state_keys = models.JSONField(default=list)
    # When it last became the active release (None: never). Bookkeeping, not code: written by
    # release_activate with an update; the rollback goes back to the one activated before the current.
    activated_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)

    objects = AppReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["app", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["app", "version"], name="release_version_unique_in_app")
        ]

    def __str__(self) -> str:
        return f"{self.app} v{self.version}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("A release is immutable: deploy a new one instead.")
        if self.tenant_id != self.app.tenant_id:
            raise ValueError(f"{self} must belong to its app's tenant.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_valid(self) -> bool:
        return self.status == ReleaseStatus.VALID

    @property
    def source(self) -> str:
        return self.files.get("main.py", "")


class AppLogLevel(models.TextChoices):
    DEBUG = "debug", "Debug"
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


class AppLogEntry(models.Model):
    """A line of an app's own log: its prints, its logging, its handlers' tracebacks."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="log_entries")
    release = models.ForeignKey(AppRelease, null=True, on_delete=models.SET_NULL, related_name="+")
    level = models.CharField(max_length=10, choices=AppLogLevel.choices, default=AppLogLevel.INFO)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "app log entries"

    def __str__(self) -> str:
        return f"[{self.level}] {self.message_shown[:80]}"

    @property
    def message_shown(self) -> str:
        """The message as the app's developers read it: a traceback's files (``<app r12>/main.py``,
        named by the release's id when imported) named by its version (``<app v3>/main.py``)."""
        if self.release is None:
            return self.message
        return self.message.replace(f"<app r{self.release_id}>/", f"<app v{self.release.version}>/")
