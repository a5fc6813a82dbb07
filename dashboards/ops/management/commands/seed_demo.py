from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboards.ops.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo tenants, people, teams and apps (idempotent; development only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--allow-without-debug", action="store_true", help="Seed even with DEBUG off (known passwords!)."
        )

    def handle(self, *args: Any, allow_without_debug: bool, **options: Any) -> None:
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError("Refusing to create accounts with known passwords while DEBUG is off.")
        seed_demo()
        self.stdout.write("Demo data is in place.")
