from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "dashboards.scenarios"
    label = "scenarios"
    verbose_name = "Scenarios"

    def ready(self) -> None:
        from dashboards.live.topics import register_topic  # noqa: PLC0415 - models are ready now
        from dashboards.scenarios.pages import (  # noqa: PLC0415
            SCENARIOS_TOPIC,
            TOPIC_ENTITY_TYPES,
            render_scenarios_topic,
        )

        register_topic(SCENARIOS_TOPIC, render_scenarios_topic, entity_types=TOPIC_ENTITY_TYPES)
