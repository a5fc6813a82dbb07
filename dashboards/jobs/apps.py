from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "dashboards.jobs"
    label = "jobs"
    verbose_name = "Jobs"
