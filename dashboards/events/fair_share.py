"""Each tenant's fair share of the events queue, which every tenant's processors share.

A tenant has at most ``EVENT_TASKS_PER_TENANT`` tasks (``on_event`` deliveries, ``rq`` emitter
subscribers) queued or running at once; its further tasks wait in Redis, in order, and start as
its earlier ones end. So a tenant whose callbacks are slow (each may hold a worker up to its task's
time limit) or whose events come in floods delays another tenant's events by at most its share,
not by its whole backlog. Past ``EVENT_TASKS_WAITING_PER_TENANT`` waiting tasks, a new one is
dropped and logged: delivery to processors is at most once, and the event stays in the log.

Redis holds, per tenant, the tasks in the queue or running (a sorted set of RQ ids, scored by a
lease's end) and the tasks waiting (a list of what to enqueue). The worker that ran a task frees
its place when the task ends, however it ends (it runs in the worker, not in the work horse that a
time limit kills). A place whose worker died is freed by the workers' maintenance (every 5 s)
once its lease has ended and RQ no longer holds its task queued or running (RQ marks a dead
worker's task failed when the task's time limit has passed), and what waits behind it starts; a
lease that ends while its task still waits in a busy queue, or runs, is renewed.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import redis
from django.conf import settings

from dashboards.events.limits import EVENT_TASK_LEASE_GRACE_SECONDS, EVENT_TASKS_WAITING_PER_TENANT

logger = logging.getLogger(__name__)
TENANT_META = "dashboards_tenant"  # the RQ job's meta key naming the tenant whose share it holds
_PREFIX = "dashboards:events:share"
_TENANTS_WAITING = f"{_PREFIX}:tenants-waiting"

STARTED, WAITING, DROPPED = "started", "waiting", "dropped"

# KEYS: running, waiting, tenants-waiting. ARGV: now, share, waiting max, task json, tenant id.
# A task waits behind the ones already waiting, even when a place is free: order is kept.
_SUBMIT = """
local waiting = redis.call('LLEN', KEYS[2])
if waiting == 0 and redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  local task = cjson.decode(ARGV[4])
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + task['lease'], task['id'])
  return 1
end
if waiting >= tonumber(ARGV[3]) then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
return 2
"""

# KEYS: running, waiting, tenants-waiting. ARGV: now, share, tenant id, the ended task's id or ''.
# Frees the ended task's place and returns the waiting tasks that now have one.
_ADVANCE = """
if ARGV[4] ~= '' then
  redis.call('ZREM', KEYS[1], ARGV[4])
end
local started = {}
while redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) do
  local raw = redis.call('LPOP', KEYS[2])
  if not raw then
    break
  end
  local task = cjson.decode(raw)
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + task['lease'], task['id'])
  table.insert(started, raw)
end
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[3])
end
return started
"""


def _keys(tenant_id: int) -> list[str]:
    return [f"{_PREFIX}:{int(tenant_id)}:running", f"{_PREFIX}:{int(tenant_id)}:waiting", _TENANTS_WAITING]


def _share() -> int:
    return int(settings.EVENT_TASKS_PER_TENANT)


def event_task_submit(
    *, tenant_id: int, func: str, args: list[Any], timeout_seconds: int, failure_ttl: int, description: str
) -> str:
    """Enqueue one events-queue task of this tenant now, or behind its earlier ones; say which."""
    from dashboards.jobs.queues import get_events_queue  # noqa: PLC0415 - RQ only when needed

    queue = get_events_queue()
    task = {
        "id": f"ev-{uuid.uuid4().hex}",
        "lease": timeout_seconds + EVENT_TASK_LEASE_GRACE_SECONDS,
        "tenant": int(tenant_id),
        "func": func,
        "args": args,
        "timeout": timeout_seconds,
        "failure_ttl": failure_ttl,
        "description": description,
    }
    raw = json.dumps(task, separators=(",", ":"))
    keys = _keys(tenant_id)
    waiting_max = EVENT_TASKS_WAITING_PER_TENANT
    outcome = queue.connection.eval(_SUBMIT, 3, *keys, time.time(), _share(), waiting_max, raw, tenant_id)
    if outcome == 1:
        _enqueue(queue, task)
        return STARTED
    if outcome == 2:
        return WAITING
    logger.warning(
        "tenant %s: %s not run: %d of its events tasks are already waiting",
        tenant_id, description, EVENT_TASKS_WAITING_PER_TENANT,
    )  # fmt: skip
    return DROPPED


def event_task_ended(*, tenant_id: int, task_id: str) -> int:
    """Free the ended task's place and start what waits for one; returns how many started."""
    return _advance(tenant_id, task_id)


def event_tasks_start_waiting() -> int:
    """Start the tasks whose tenants have a free place again: a place whose lease ended and whose
    task RQ no longer holds queued or running (its worker died, or Redis lost it) is freed."""
    from dashboards.jobs.queues import get_events_queue  # noqa: PLC0415

    queue = get_events_queue()
    started = 0
    for raw_tenant in queue.connection.smembers(_TENANTS_WAITING):
        tenant_id = int(raw_tenant)
        _free_lost_places(queue, tenant_id)
        started += _advance(tenant_id, "")
    return started


def _free_lost_places(queue: Any, tenant_id: int) -> None:
    """A lease ends on the clock; a task may still wait in a busy queue or run past it: renewed."""
    from rq.job import Job, JobStatus  # noqa: PLC0415

    running_key = _keys(tenant_id)[0]
    now = time.time()
    for raw_id in queue.connection.zrangebyscore(running_key, "-inf", now):
        task_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
        try:
            status = Job.fetch(task_id, connection=queue.connection, serializer=queue.serializer).get_status()
        except Exception:  # NoSuchJobError, or a job that cannot be read: not held any more
            status = None
        if status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
            queue.connection.zadd(running_key, {task_id: now + EVENT_TASK_LEASE_GRACE_SECONDS}, xx=True)
        else:
            queue.connection.zrem(running_key, task_id)


def _advance(tenant_id: int, ended_task_id: str) -> int:
    from dashboards.jobs.queues import get_events_queue  # noqa: PLC0415

    queue = get_events_queue()
    started = queue.connection.eval(_ADVANCE, 3, *_keys(tenant_id), time.time(), _share(), int(tenant_id),
                                    ended_task_id)  # fmt: skip
    for raw in started:
        try:
            _enqueue(queue, json.loads(raw))
        except (redis.RedisError, ValueError, KeyError, TypeError) as error:
            # Its place frees itself when its lease ends; the event stays in the log.
            logger.warning("tenant %s: a waiting events task was lost (%s: %s)", tenant_id,
                           type(error).__name__, error)  # fmt: skip
    return len(started)


def _enqueue(queue: Any, task: dict[str, Any]) -> None:
    queue.enqueue(
        task["func"],
        *task["args"],
        job_id=task["id"],
        job_timeout=task["timeout"],
        result_ttl=0,
        failure_ttl=task["failure_ttl"],
        description=task["description"],
        meta={TENANT_META: task["tenant"]},
    )
