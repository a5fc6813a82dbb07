from django.apps import AppConfig


class HostingConfig(AppConfig):
    name = "dashboards.hosting"
    label = "hosting"
    verbose_name = "Dashboard apps"

    def ready(self) -> None:
        from dashboards.hosting.pages import APPS_TOPIC, render_apps_topic  # noqa: PLC0415 - models ready
        from dashboards.live.topics import register_topic  # noqa: PLC0415

        register_topic(APPS_TOPIC, render_apps_topic, entity_types=("app", "release"))
