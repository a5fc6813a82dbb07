from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "dashboards.runtime"
    label = "runtime"
    verbose_name = "Session runtime"

    def ready(self) -> None:
        from dashboards.runtime import signals  # noqa: F401, PLC0415 - connects the receivers
