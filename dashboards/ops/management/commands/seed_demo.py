from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboards.ops.demo import seed_demo
from dashboards.runtime.broadcast import broadcasts_paused


class Command(BaseCommand):
    help = "Create the demo tenants, people, teams and apps (idempotent; development only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--allow-without-debug", action="store_true", help="Seed even with DEBUG off (known passwords!)."
        )

    def handle(self, *args: Any, allow_without_debug: bool, **options: Any) -> None:
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError("Refusing to create accounts with known passwords while DEBUG is off.")
        if _redis_answers():
            seed_demo()  # the platform may be running: its pages hear of the new rows
        else:
            with broadcasts_paused():  # before `make run` starts Redis: nobody can be listening
                seed_demo()
        self.stdout.write("Demo data is in place.")


def _redis_answers() -> bool:
    try:
        return bool(
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
        )
    except (redis.RedisError, OSError):
        return False
