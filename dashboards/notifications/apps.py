from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "dashboards.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from dashboards.notifications import signals  # noqa: PLC0415 - models are loaded by now

        signals.connect()
