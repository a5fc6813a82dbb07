from __future__ import annotations

from django.conf import settings
from django.db import models

from dashboards.tenancy.models import Tenant, TenantScopedQuerySet

MESSAGE_MAX_LENGTH = 500
LINK_MAX_LENGTH = 500


class Level(models.TextChoices):
    """The toast levels of docs/protocol.md, stored with each notification."""

    INFO = "info", "Info"
    SUCCESS = "success", "Success"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


class Notification(models.Model):
    """One message to one member of one tenant; the inbox lists them, the toast only announces them."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    message = models.CharField(max_length=MESSAGE_MAX_LENGTH)
    link = models.CharField(max_length=LINK_MAX_LENGTH, blank=True, help_text="A path on this site.")
    subject_type = models.CharField(max_length=30, blank=True, help_text='What it is about, e.g. "job".')
    subject_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_user_read"),
            models.Index(fields=["subject_type", "subject_id"], name="notification_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} for {self.user}: {self.message[:60]}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
