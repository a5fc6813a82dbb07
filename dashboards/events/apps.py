from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "dashboards.events"
    label = "events"
    verbose_name = "Events"
