from django.apps import AppConfig


class HostingConfig(AppConfig):
    name = "dashboards.hosting"
    label = "hosting"
    verbose_name = "Dashboard apps"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed  # noqa: PLC0415

        from dashboards.hosting.models import App  # noqa: PLC0415
        from dashboards.hosting.pages import APPS_TOPIC, render_apps_topic  # noqa: PLC0415 - models ready
        from dashboards.live.topics import register_topic  # noqa: PLC0415
        from dashboards.tenancy.signals import refuse_links_across_tenants  # noqa: PLC0415

        register_topic(APPS_TOPIC, render_apps_topic, entity_types=("app", "release"))
        m2m_changed.connect(refuse_links_across_tenants, sender=App.teams.through,
                            dispatch_uid="app-teams-one-tenant")  # fmt: skip
