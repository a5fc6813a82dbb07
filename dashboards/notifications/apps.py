from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "dashboards.notifications"
    label = "notifications"
    verbose_name = "Notifications"
