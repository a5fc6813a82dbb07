"""``manage.py notify_team --tenant acme --team Analysts --level success --message "Done"``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dashboards.notifications.models import Level
from dashboards.notifications.services import notification_send_to_team
from dashboards.runtime.protocol import TOAST_POSITIONS
from dashboards.tenancy.models import Team, Tenant


class Command(BaseCommand):
    help = "Send a notification (inbox entry and toast) to every member of a tenant's team."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--team", required=True, help="The team's name.")
        parser.add_argument("--level", default=Level.INFO, choices=Level.values)
        parser.add_argument("--message", required=True)
        parser.add_argument("--link", default=None, help="A path on this site, e.g. /t/acme/.")
        parser.add_argument("--position", default="top-right", choices=TOAST_POSITIONS)
        parser.add_argument("--duration", type=int, default=None, help="Milliseconds; 0: until dismissed.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}.")
        team = Team.objects.for_tenant(tenant).filter(name=options["team"]).first()
        if team is None:
            raise CommandError(f"No team {options['team']!r} in {tenant}.")
        try:
            rows = notification_send_to_team(
                team=team, level=options["level"], message=options["message"], link=options["link"],
                position=options["position"], duration=options["duration"],
            )  # fmt: skip
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Notified {len(rows)} member(s) of {team.name} in {tenant.name}.")
