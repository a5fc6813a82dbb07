from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "dashboards.events"
    label = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        from dashboards.events import signals  # noqa: PLC0415 - models are ready now

        signals.connect()
