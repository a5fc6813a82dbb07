from django.apps import AppConfig


class HostingConfig(AppConfig):
    name = "dashboards.hosting"
    label = "hosting"
    verbose_name = "Dashboard apps"
