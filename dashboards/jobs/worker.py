"""The RQ worker that runs jobs: JSON only, quick maintenance, the jobs reconciler, and a work
horse forked ahead of time.

RQ notices a dead worker's jobs only at its maintenance pass (every 10 minutes by default) and
only once their heartbeat expires; ours runs every RECONCILE_EVERY_SECONDS and reconciles from
the jobs' own liveness keys, so a job whose worker was killed fails within seconds.

RQ forks a work horse when a job arrives, and forking a process that holds the platform and the
releases' code costs about 10 ms, paid by every job between its enqueue and its start. So the
worker forks the next horse while it is idle (the *spare*: after the last horse ended and the
releases were loaded, so it holds the code a horse forked at the job's arrival would hold) and,
when a job arrives, only writes the job's id to the spare's pipe. From then on the spare is an
ordinary RQ horse: it leads a process group of its own (which RQ's stop-job, cold shutdown and
monitor kill), the worker waits for it and judges its exit as any horse's. A job whose release was
loaded after the spare's fork, or that the spare cannot take, gets a horse forked the usual way.
A spare must never outlive its worker: the worker kills it on every way out of its loop, and a
spare exits when its pipe reads end-of-file, which is all it sees of a worker killed by SIGKILL.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import select
import signal
import time
from typing import Any, NoReturn

# Imported here, in the worker, so that every work horse forked from it has them already: a horse
# that imported them itself would spend milliseconds of every job on it.
import channels_redis.core  # noqa: F401 - the progress reporter's channel layer
from django.db import connections
from rq import Worker
from rq.exceptions import StopRequested
from rq.executions import Execution
from rq.serializers import JSONSerializer

import dashboards.events.processing
import dashboards.events.tasks
import dashboards.jobs.tasks  # noqa: F401 - what RQ runs
from dashboards.events.delivery import load_event_filters
from dashboards.events.fair_share import TENANT_META, event_task_ended, event_tasks_start_waiting
from dashboards.events.services import event_log_prune
from dashboards.hosting.models import AppRelease
from dashboards.jobs.limits import ALIVE_REFRESH_SECONDS, RECONCILE_EVERY_SECONDS
from dashboards.jobs.queues import TASK, get_events_queue, get_queue, mark_alive
from dashboards.jobs.runner import warm_up
from dashboards.jobs.services import jobs_reconcile
from dashboards.ops.lifelines import die_with_parent
from dashboards.runtime.executor import AppLoadError, get_executor
from dashboards.runtime.residency import ReleaseResidency

logger = logging.getLogger(__name__)
EVENT_LOG_PRUNE_EVERY_SECONDS = 3600
WORKER_TTL_SECONDS = RECONCILE_EVERY_SECONDS + 15  # RQ waits on the queue for ttl - 15 s at most
SPARE_SETSID_WAIT_SECONDS = 1.0  # a spare not in a process group of its own by then is not used
SPARE_ACK_SECONDS = 2.0  # a spare that has not acknowledged its job by then is killed, the job re-forked
ACK = b"k"

# The write ends of this process's spares' pipes. Any child forked while one is open (the spare
# itself, a horse forked the usual way, RQ's scheduler) closes it at once: a spare must read
# end-of-file when its worker dies, not when the last of its worker's children does.
_spare_pipes: set[int] = set()


def _close_spare_pipes() -> None:
    for pipe in _spare_pipes:
        with contextlib.suppress(OSError):
            os.close(pipe)
    _spare_pipes.clear()


os.register_at_fork(after_in_child=_close_spare_pipes)


class Spare:
    """The worker's side of a spare: its pid, the order pipe's write end, the acknowledgement
    pipe's read end, the releases it holds."""

    def __init__(self, pid: int, pipe: int, releases: frozenset[str], ack: int | None = None) -> None:
        self.pid = pid
        self.pipe = pipe
        self.ack = ack
        self.releases = releases
        self.reaped = False

    def is_waiting(self) -> bool:
        """False once it has ended (and it is reaped then: never signal a pid that was reaped)."""
        if not self.reaped:
            try:
                self.reaped = os.waitpid(self.pid, os.WNOHANG)[0] != 0
            except ChildProcessError:
                self.reaped = True
        return not self.reaped

    def leads_its_group(self) -> bool:
        """RQ's stop-job kills the horse's process group, which must not be the worker's. The
        spare's first act is setsid(); one forked a moment ago (jobs waiting) may not be there yet."""
        deadline = time.monotonic() + SPARE_SETSID_WAIT_SECONDS
        while self.is_waiting():
            try:
                if os.getpgid(self.pid) == self.pid:
                    return True
            except OSError:
                return False
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0002)
        return False

    def hand_over(self, order: dict[str, str]) -> bool:
        """Send it a job; True once it has acknowledged it. False when it is gone (the write fails,
        or its end of the acknowledgement pipe closes: it died, perhaps at this very moment) or
        does not answer within SPARE_ACK_SECONDS; the caller then ends it and forks a horse."""
        try:
            data = json.dumps(order).encode() + b"\n"
            while data:
                data = data[os.write(self.pipe, data) :]
            return self.ack is None or self._acknowledged()
        except OSError as error:
            logger.info("spare work horse %s did not take a job (%s)", self.pid, error)
            return False
        finally:
            self._close_pipe()

    def _acknowledged(self) -> bool:
        assert self.ack is not None
        readable, _, _ = select.select([self.ack], [], [], SPARE_ACK_SECONDS)
        answer = os.read(self.ack, 1) if readable else b""
        if answer != ACK:
            logger.info("spare work horse %s did not acknowledge its job", self.pid)
        return answer == ACK

    def end(self) -> None:
        """Kill and reap it: it never ran a job, so nothing is lost."""
        self._close_pipe()
        if self.reaped:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self.reaped = True

    def _close_pipe(self) -> None:
        for pipe in (self.pipe, self.ack):
            if pipe is not None and pipe in _spare_pipes:
                _spare_pipes.discard(pipe)
                os.close(pipe)


def _read_order(pipe: int) -> dict[str, str] | None:
    """The job the worker hands over, or None at end-of-file (the worker is gone or let us go)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(pipe, 4096)
        if not chunk:
            return None
        data += chunk
    return json.loads(data)


def _drop_broken_connections() -> None:
    """A spare may wait for hours: a database connection the server dropped meanwhile is closed
    (and the job's first query opens a new one), not handed to the job (PostgreSQL: a SELECT 1)."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.is_usable():
            connection.close()


def _release_of(job: Any) -> str | None:
    """Every task's second argument is its release's id (``run_job``, the events tasks)."""
    return str(job.args[1]) if len(job.args) > 1 and job.args[1] is not None else None


def _read_event_filters(tenant_id: int) -> None:
    """Read the on_event filters of the tenant's active releases here, so every horse has them.

    A job's start is an event; delivering it asks which releases' processors want it, and a horse
    that had to read the filters of every release of the tenant would do it before the job's
    function runs. They are cached by release, and releases never change, so a horse with fewer
    only reads the rest itself.
    """
    try:
        load_event_filters(tenant_id)
    except StopRequested:
        raise  # SIGTERM: see run_maintenance_tasks
    except Exception:  # the horse reads them if need be
        logger.exception("event filters of tenant %s not read ahead", tenant_id)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's: alive
    return True


def _free_tenant_share(job: Any) -> None:
    tenant_id = (job.meta or {}).get(TENANT_META)
    if tenant_id is None:
        return  # a job (jobs have their own admission) or a task enqueued before fair shares
    try:
        event_task_ended(tenant_id=int(tenant_id), task_id=job.id)
    except StopRequested:
        raise  # SIGTERM: see run_maintenance_tasks
    except Exception:  # Redis away: the place frees itself when its lease ends
        logger.exception("events task %s: its tenant's place not freed", job.id)


class JobWorker(Worker):
    loaded_releases: set[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker_pid = os.getpid()  # what its horses check their parent against
        self.loaded_releases = set()
        # Releases no job asked for in a while are unloaded (the next spare is forked without them).
        self.residency = ReleaseResidency(self._unload_release)
        self.event_log_pruned_at = 0.0
        self.spare: Spare | None = None

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        steps = [
            (jobs_reconcile, "jobs reconciler"),
            (event_tasks_start_waiting, "start of waiting events tasks"),
            (self._prune_event_log, "event log pruning"),
            (self.residency.sweep_if_due, "unloading of idle releases"),
        ]
        try:
            for step, what in steps:
                try:
                    step()
                except StopRequested:
                    # SIGTERM's way out of the worker's loop (raised by RQ's handler wherever the
                    # worker is): swallowed here, the worker ran on, and with Redis gone (the
                    # embedded one ends with the same parent) it retried forever.
                    raise
                except Exception:
                    logger.exception("%s failed; it runs again at the next pass", what)
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
        try:
            self._load_release(_release_of(job))
            connections.close_all()  # the work horse opens its own connection after the fork
            super().execute_job(job, queue)
        finally:  # here, not in the horse: a horse killed at its time limit frees its place too
            _free_tenant_share(job)

    def _load_release(self, release_id: str | None) -> None:
        """Import the release's code here, once, so every work horse forked after has it loaded.

        A release that fails to load is left to the work horse, which fails the job with the reason.
        """
        if release_id is None:
            return
        self.residency.touch(release_id)
        if release_id in self.loaded_releases:
            return
        release = AppRelease.objects.filter(pk=release_id).only("tenant_id", "files").first()
        if release is None:
            return
        try:
            get_executor().load(str(release.pk), release.files)
        except AppLoadError:
            return
        self.loaded_releases.add(str(release.pk))
        _read_event_filters(release.tenant_id)

    def _unload_release(self, release_id: str) -> None:
        get_executor().forget(release_id)
        self.loaded_releases.discard(release_id)

    # --- the spare work horse ---
    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        self._keep_spare()  # before waiting on the queue: the last horse has ended
        return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

    def fork_work_horse(self, job: Any, queue: Any) -> None:
        spare, self.spare = self.spare, None
        if spare is not None:
            if self._hand_over(spare, job, queue):
                return
            spare.end()
        super().fork_work_horse(job, queue)

    def register_birth(self) -> None:
        self._forget_dead_namesake()
        super().register_birth()

    def _forget_dead_namesake(self) -> None:
        """A worker started under the name of one of this machine whose process is gone (killed with
        SIGKILL, say): RQ refused the new one until the dead one's key expired, over a minute
        later, so a supervisor restarting a named worker crash-looped meanwhile."""
        hostname, pid, death = (
            value.decode() if isinstance(value, bytes) else value
            for value in self.connection.hmget(self.key, ["hostname", "pid", "death"])
        )
        if hostname is None or death is not None or hostname != self.hostname or not pid:
            return
        if int(pid) != os.getpid() and _process_exists(int(pid)):
            return  # alive: RQ refuses this one, as it should
        logger.warning(
            "worker %s: the worker of that name (pid %s) is gone; its registration is ended", self.name, pid
        )
        self.connection.hset(self.key, "death", "the process was gone when a worker of its name started")

    def maintain_heartbeats(self, job: Any, *args: Any) -> None:
        """Every ALIVE_REFRESH_SECONDS while a horse runs (job_monitoring_interval): RQ's
        heartbeats, and the platform job's liveness key. Refreshed from here, the worker, as well
        as from a thread in the horse: a job whose function holds the interpreter's lock for long
        (one regular expression, a big-number calculation) starves that thread, and the job was
        failed as "worker died" while it ran."""
        super().maintain_heartbeats(job, *args)
        if job.func_name == TASK and job.args:
            try:
                mark_alive(self.connection, int(job.args[0]))
            except StopRequested:
                raise  # SIGTERM: see run_maintenance_tasks
            except Exception as error:  # Redis restarting: the horse's own thread tries too
                logger.info("job %s: liveness not refreshed by the worker (%s)", job.args[0], error)

    def setup_work_horse_signals(self) -> None:
        super().setup_work_horse_signals()
        # A horse leads a process group of its own (RQ kills the group): a worker killed before it
        # (SIGKILL after its stop grace, a crash) would leave it running its job unsupervised.
        die_with_parent(parent=self.worker_pid)

    def teardown(self) -> None:
        if not self.is_horse:
            self._end_spare()
        super().teardown()

    def _keep_spare(self) -> None:
        """One spare waiting, forked since the last release was loaded; a dead one is replaced."""
        spare = self.spare
        if spare is not None and spare.releases == self.loaded_releases and spare.is_waiting():
            return
        self._end_spare()
        try:
            self.spare = self._fork_spare()
        except OSError as error:
            logger.warning("no spare work horse (%s): the next job's horse is forked when it comes", error)

    def _end_spare(self) -> None:
        spare, self.spare = self.spare, None
        if spare is not None:
            spare.end()

    def _hand_over(self, spare: Spare, job: Any, queue: Any) -> bool:
        release = _release_of(job)
        if release in self.loaded_releases and release not in spare.releases:
            return False  # loaded since the spare's fork: a fresh horse has it, the spare has not
        execution = self.execution
        if execution is None or not spare.leads_its_group():
            return False
        os.environ["RQ_WORKER_ID"] = self.name
        os.environ["RQ_JOB_ID"] = job.id
        if not spare.hand_over({"job": job.id, "queue": queue.name, "execution": execution.id}):
            return False
        self._horse_pid = spare.pid
        self.procline(f"Handed {job.id} to the spare {spare.pid} at {time.time()}")
        return True

    def _fork_spare(self) -> Spare:
        connections.close_all()  # the horse opens its own connection
        self.get_redis_server_version()  # asked once here, not in every horse
        releases = frozenset(self.loaded_releases)
        read_end, write_end = os.pipe()
        ack_read, ack_write = os.pipe()
        _spare_pipes.update((write_end, ack_read))  # so the child closes them (the at-fork hook)
        try:
            pid = os.fork()
        except OSError:
            _spare_pipes.difference_update((write_end, ack_read))
            for pipe in (read_end, write_end, ack_read, ack_write):
                os.close(pipe)
            raise
        if pid == 0:
            self._wait_as_spare(read_end, ack_write)
        os.close(read_end)
        os.close(ack_write)
        return Spare(pid, write_end, releases, ack_read)

    def _wait_as_spare(self, pipe: int, ack: int) -> NoReturn:
        """The spare's life: wait for a job, then be its horse (RQ's horse ends the process)."""
        try:
            os.setsid()  # a process group of its own, as RQ gives a horse: RQ kills the group
            die_with_parent(parent=self.worker_pid)  # and so it ends with the worker, whatever happens
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self.procline("spare work horse, waiting for a job")
            self._connect_ahead()
            # What it holds (the platform, the releases' code) is kept out of its collections:
            # a full one would walk all of it, during the job.
            gc.freeze()
            order = _read_order(pipe)
            if order is None:
                os._exit(0)
            os.write(ack, ACK)  # the worker judges this process as the job's horse from now on
            os.close(ack)
            os.close(pipe)
            _drop_broken_connections()
            self._run_as_horse(order["job"], order["queue"], order["execution"])
        except BaseException:
            logger.exception("worker %s: the spare work horse failed", self.name)
        os._exit(1)

    def _connect_ahead(self) -> None:
        """Open what every horse opens first (RQ's Redis connection, the database's) and make its
        first read, so that the job does not wait for them."""
        try:
            self.connection.ping()
            warm_up()
        except Exception as error:  # the horse connects when it needs to, as any horse does
            logger.info("spare work horse: not connected ahead (%s)", error)

    def _run_as_horse(self, job_id: str, queue_name: str, execution_id: str) -> None:
        os.environ["RQ_WORKER_ID"] = self.name
        os.environ["RQ_JOB_ID"] = job_id
        job = self.job_class.fetch(job_id, connection=self.connection, serializer=self.serializer)
        job.redis_server_version = self.redis_server_version
        queue = next((q for q in self.queues if q.name == queue_name), None) or self.queue_class(
            queue_name, connection=self.connection, job_class=self.job_class, serializer=self.serializer,
            death_penalty_class=self.death_penalty_class,
        )  # fmt: skip
        execution = Execution.fetch(execution_id, job.id, connection=self.connection)
        execution._job = job  # else RQ would fetch the job again, without our serializer
        self.executions = {execution.id: execution}
        self.main_work_horse(job, queue)


def build_worker(*, name: str | None = None) -> JobWorker:
    queue = get_queue()
    return JobWorker(
        [get_events_queue(), queue],  # served round robin (jobs_worker): every other turn each
        connection=queue.connection,
        serializer=JSONSerializer,
        name=name,
        worker_ttl=WORKER_TTL_SECONDS,
        maintenance_interval=RECONCILE_EVERY_SECONDS,
        job_monitoring_interval=ALIVE_REFRESH_SECONDS,  # see maintain_heartbeats
    )
