from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "dashboards.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"
