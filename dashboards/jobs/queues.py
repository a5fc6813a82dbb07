"""The RQ side of jobs: the queue, enqueueing by id, stopping, and the liveness keys.

RQ carries only ``run_job(job_id)`` as JSON (never pickle): the job's function, arguments and
release are read from the database by the worker. Everything here talks to the shared Redis.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import timedelta

import django_rq
import redis
from django.conf import settings
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job as RQJob
from rq.queue import Queue
from rq.serializers import JSONSerializer

from dashboards.jobs.limits import ALIVE_TTL_SECONDS

logger = logging.getLogger(__name__)
QUEUE_NAME = "default"
EVENTS_QUEUE_NAME = "events"  # event processors and emitter subscribers: a fair share per tenant
TASK = "dashboards.jobs.tasks.run_job"
RESULT_TTL_SECONDS = 600  # RQ's copy of the outcome; the database keeps ours


_queues: dict[tuple[str, str, int], Queue] = {}


def _cached_queue(name: str) -> Queue:
    """One queue (one Redis connection pool) per name, settings and process: django-rq builds a new
    client on every call, so each enqueue opened a connection of its own (about 0.7 ms)."""
    key = (name, repr(settings.RQ_QUEUES.get(name)), os.getpid())
    queue = _queues.get(key)
    if queue is None:
        queue = _queues[key] = django_rq.get_queue(name)
    return queue


def get_queue() -> Queue:
    return _cached_queue(QUEUE_NAME)


def get_events_queue() -> Queue:
    return _cached_queue(EVENTS_QUEUE_NAME)


def connection() -> redis.Redis:
    return get_queue().connection


def new_rq_id() -> str:
    return f"dj-{uuid.uuid4().hex}"


def enqueue(
    *, job_id: int, release_id: int, rq_id: str, timeout_seconds: int, delay_seconds: float = 0.0
) -> None:
    queue = get_queue()
    options = {"job_id": rq_id, "job_timeout": timeout_seconds, "result_ttl": RESULT_TTL_SECONDS,
               "failure_ttl": RESULT_TTL_SECONDS, "description": f"dashboards job {job_id}"}  # fmt: skip
    if delay_seconds > 0:
        queue.enqueue_in(timedelta(seconds=delay_seconds), TASK, job_id, release_id, **options)
    else:
        queue.enqueue(TASK, job_id, release_id, **options)


def rq_job_exists(rq_id: str) -> bool:
    return RQJob.exists(rq_id, connection=connection())


def cancel_queued(rq_id: str) -> None:
    try:
        RQJob.fetch(rq_id, connection=connection(), serializer=JSONSerializer).cancel()
    except (NoSuchJobError, InvalidJobOperation):
        pass  # already picked up or gone: the worker checks our row before it runs anything


def stop_running(rq_id: str) -> None:
    """RQ's stop-job command: the worker kills the work horse."""
    try:
        send_stop_job_command(connection(), rq_id, serializer=JSONSerializer)
    except (NoSuchJobError, InvalidJobOperation) as error:
        logger.info("stop of %s: %s", rq_id, error)


def alive_key(job_id: int) -> str:
    return f"dashboards:jobs:alive:{job_id}"


def mark_alive(client: redis.Redis, job_id: int) -> None:
    client.set(alive_key(job_id), "1", ex=ALIVE_TTL_SECONDS)


def alive_job_ids(job_ids: list[int]) -> set[int]:
    if not job_ids:
        return set()
    pipe = connection().pipeline(transaction=False)
    for job_id in job_ids:
        pipe.exists(alive_key(job_id))
    return {job_id for job_id, alive in zip(job_ids, pipe.execute(), strict=True) if alive}
