from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "dashboards.ops"
    label = "ops"
    verbose_name = "Operations"
