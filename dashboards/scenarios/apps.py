from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "dashboards.scenarios"
    label = "scenarios"
    verbose_name = "Scenarios"
