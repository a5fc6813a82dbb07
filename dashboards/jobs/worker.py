"""The RQ worker that runs jobs: JSON only, quick maintenance, and the jobs reconciler.

RQ notices a dead worker's jobs only at its maintenance pass (every 10 minutes by default) and
only once their heartbeat expires; ours runs every RECONCILE_EVERY_SECONDS and reconciles from
the jobs' own liveness keys, so a job whose worker was killed fails within seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connections
from rq import Worker
from rq.serializers import JSONSerializer

from dashboards.jobs.limits import RECONCILE_EVERY_SECONDS
from dashboards.jobs.queues import get_queue
from dashboards.jobs.services import jobs_reconcile

logger = logging.getLogger(__name__)
WORKER_TTL_SECONDS = RECONCILE_EVERY_SECONDS + 15  # RQ waits on the queue for ttl - 15 s at most


class JobWorker(Worker):
    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            jobs_reconcile()
        except Exception:
            logger.exception("jobs reconciler failed; it runs again at the next pass")
        finally:
            connections.close_all()  # never hand an open database connection to a forked horse

    def execute_job(self, job: Any, queue: Any) -> None:
        connections.close_all()  # the work horse opens its own connection after the fork
        super().execute_job(job, queue)


def build_worker(*, name: str | None = None) -> JobWorker:
    queue = get_queue()
    return JobWorker(
        [queue],
        connection=queue.connection,
        serializer=JSONSerializer,
        name=name,
        worker_ttl=WORKER_TTL_SECONDS,
        maintenance_interval=RECONCILE_EVERY_SECONDS,
    )
