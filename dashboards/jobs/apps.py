from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "dashboards.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from dashboards.jobs.pages import render_jobs_topic  # noqa: PLC0415 - models are ready now
        from dashboards.jobs.services import JOBS_TOPIC  # noqa: PLC0415
        from dashboards.live.topics import register_topic  # noqa: PLC0415

        register_topic(JOBS_TOPIC, render_jobs_topic, entity_types=("job",))
