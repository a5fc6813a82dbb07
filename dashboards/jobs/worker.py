"""The RQ worker that runs jobs: JSON only, quick maintenance, and the jobs reconciler.

RQ notices a dead worker's jobs only at its maintenance pass (every 10 minutes by default) and
only once their heartbeat expires; ours runs every RECONCILE_EVERY_SECONDS and reconciles from
the jobs' own liveness keys, so a job whose worker was killed fails within seconds.
"""

from __future__ import annotations

import logging
import time
from typing import Any

# Imported here, in the worker, so that every work horse forked from it has them already: a horse
# that imported them itself would spend milliseconds of every job on it.
import channels_redis.core  # noqa: F401 - the progress reporter's channel layer
from django.db import connections
from rq import Worker
from rq.serializers import JSONSerializer

import dashboards.events.processing
import dashboards.events.tasks
import dashboards.jobs.tasks  # noqa: F401 - what RQ runs
from dashboards.events.services import event_log_prune
from dashboards.hosting.models import AppRelease
from dashboards.jobs.limits import RECONCILE_EVERY_SECONDS
from dashboards.jobs.queues import get_events_queue, get_queue
from dashboards.jobs.services import jobs_reconcile
from dashboards.runtime.executor import AppLoadError, get_executor

logger = logging.getLogger(__name__)
EVENT_LOG_PRUNE_EVERY_SECONDS = 3600
WORKER_TTL_SECONDS = RECONCILE_EVERY_SECONDS + 15  # RQ waits on the queue for ttl - 15 s at most


class JobWorker(Worker):
    loaded_releases: set[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loaded_releases = set()
        self.event_log_pruned_at = 0.0

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            jobs_reconcile()
        except Exception:
            logger.exception("jobs reconciler failed; it runs again at the next pass")
        try:
            self._prune_event_log()
        except Exception:
            logger.exception("event log pruning failed; it runs again at the next pass")
        finally:
            connections.close_all()  # never hand an open database connection to a forked horse

    def _prune_event_log(self) -> None:
        """Every worker may prune; once an hour each is plenty (a delete of old rows is idempotent)."""
        now = time.monotonic()
        if now - self.event_log_pruned_at >= EVENT_LOG_PRUNE_EVERY_SECONDS:
            self.event_log_pruned_at = now
            deleted = event_log_prune()
            if deleted:
                logger.info("event log: %d events past the retention deleted", deleted)

    def execute_job(self, job: Any, queue: Any) -> None:
        self._load_release(job.args[1] if len(job.args) > 1 else None)
        connections.close_all()  # the work horse opens its own connection after the fork
        super().execute_job(job, queue)

    def _load_release(self, release_id: Any) -> None:
        """Import the release's code here, once, so every work horse forked after has it loaded.

        A release that fails to load is left to the work horse, which fails the job with the reason.
        """
        if release_id is None or str(release_id) in self.loaded_releases:
            return
        release = AppRelease.objects.filter(pk=release_id).only("files").first()
        if release is None:
            return
        try:
            get_executor().load(str(release.pk), release.files)
        except AppLoadError:
            return
        self.loaded_releases.add(str(release.pk))


def build_worker(*, name: str | None = None) -> JobWorker:
    queue = get_queue()
    return JobWorker(
        [get_events_queue(), queue],  # RQ serves its queues in this order: events first
        connection=queue.connection,
        serializer=JSONSerializer,
        name=name,
        worker_ttl=WORKER_TTL_SECONDS,
        maintenance_interval=RECONCILE_EVERY_SECONDS,
    )
