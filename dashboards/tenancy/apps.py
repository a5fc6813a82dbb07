from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "dashboards.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed  # noqa: PLC0415 - models ready

        from dashboards.tenancy.models import Team  # noqa: PLC0415
        from dashboards.tenancy.signals import refuse_links_across_tenants  # noqa: PLC0415

        m2m_changed.connect(refuse_links_across_tenants, sender=Team.members.through,
                            dispatch_uid="team-members-one-tenant")  # fmt: skip
