"""``python manage.py jobs_worker``: one RQ worker for the platform's jobs (run as many as needed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from rq.worker import DequeueStrategy

from dashboards.jobs.worker import build_worker
from dashboards.ops.lifelines import children_die_with_this_process


class Command(BaseCommand):
    help = "Run an RQ worker for dashboard jobs (JSON serializer, scheduler for retries, reconciler)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", default=None, help="the worker's name (default: RQ's)")
        parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")

    def handle(self, *args: Any, name: str | None, burst: bool, **options: Any) -> None:
        # Round robin over the events queue and the jobs queue: each gets every other turn while
        # both hold work, so a flood of events cannot hold jobs back, nor jobs events.
        children_die_with_this_process()  # RQ's scheduler process too, not only the work horses
        build_worker(name=name).work(
            with_scheduler=True,
            burst=burst,
            logging_level="INFO",
            dequeue_strategy=DequeueStrategy.ROUND_ROBIN,
        )
