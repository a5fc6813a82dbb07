"""A tab's long-running callbacks: watching its jobs and running their status function.

A job runs on an RQ worker; its tab hears of it through its channel-layer group (progress, end)
and through its own timer (``period``). Every status-function run goes through the tab's ordered
event queue, so it never races a handler for the state. When the tab is gone the result stays on
the job; a tab that comes back (reload, reconnect) runs the status function then.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dashboards.jobs.models import ACTIVE_STATUSES, ENDED_STATUSES, Job, JobStatus
from dashboards.jobs.selectors import jobs_of_tab
from dashboards.jobs.services import job_mark_status_delivered
from dashboards.jobs.specs import JobProgress, ended_error, status_call_arguments
from dashboards.runtime.db import db_call
from dashboards.runtime.snapshots import SnapshotKey, loop_client

if TYPE_CHECKING:
    from dashboards.runtime.session import AppSession, SessionInfo

logger = logging.getLogger(__name__)
# The consumer's queue; the flag says the work must not be dropped when the queue is full (an end).
Post = Callable[[Callable[[], Awaitable[str]], bool], bool]
DELIVERED_KEY = "dashboards:job-delivered:{}"
DELIVERED_TTL_SECONDS = 24 * 3600


@dataclass
class JobWatch:
    job_id: int
    status_function: str
    status_arguments: list[Any]
    period_ms: int
    count: int = 0
    fraction: float | None = None
    message: str = ""
    ticker: asyncio.Task[None] | None = field(default=None, repr=False)
    # A "still running" run is waiting in the tab's queue: ticks and progress reports that come
    # meanwhile update what it will show instead of queueing more (a status function slower than
    # the reports once filled the queue, and the job's end was dropped with the rest).
    queued: bool = False


class TabJobs:
    """The jobs of one tab that have a status function to run."""

    def __init__(self, session: AppSession) -> None:
        self.session = session
        self.watches: dict[int, JobWatch] = {}
        self.post: Post | None = None  # the consumer's ordered queue; None: no socket (tests)
        # The consumer's: told that a job's end ran here and whether its status function showed a
        # toast; returns what to add to the frame (the team's toast it held: runtime.end_toasts).
        self.end_told: Callable[[int, bool], str] | None = None
        self._looked_up: set[int] = set()  # unknown jobs whose row was read once already
        self._ended: set[int] = set()  # jobs whose end this tab has heard
        self._lookups: set[asyncio.Task[None]] = set()  # held: the loop keeps weak references only

    # --- registering ---
    def watch_submitted(self, results: list[Any]) -> None:
        for value in results:
            if isinstance(value, Job) and value.status_function:
                self._watch(value)

    def _watch(self, job: Job) -> None:
        if job.pk in self.watches:
            return
        watch = JobWatch(job.pk, job.status_function, list(job.status_arguments), job.period_ms)
        self.watches[job.pk] = watch
        if watch.period_ms and self.post is not None:
            watch.ticker = asyncio.get_running_loop().create_task(self._tick(watch))

    async def resume(self) -> None:
        """A tab that (re)connects: watch its running jobs, deliver the ends it missed."""
        jobs = await db_call(_undelivered_jobs)(self.session.key, self.session.info)
        for job in jobs:
            self._watch(job)
            if not job.is_active and self.post is not None:
                self.post(functools.partial(self.ended, job.pk), True)

    def close(self) -> None:
        for lookup in list(self._lookups):
            lookup.cancel()
        for watch in self.watches.values():
            if watch.ticker is not None:
                watch.ticker.cancel()

    # --- what arrives ---
    async def _tick(self, watch: JobWatch) -> None:
        while True:
            await asyncio.sleep(watch.period_ms / 1000)
            if self.post is None or self.watches.get(watch.job_id) is not watch:
                return
            watch.count += 1
            self._post_running(watch)

    def note_progress(self, job_id: int, fraction: float | None, message: str) -> None:
        """A progress report from the worker: the next "still running" run shows the latest one."""
        watch = self.watches.get(job_id)
        if watch is None:
            self._adopt(job_id, fraction, message)
            return
        watch.fraction, watch.message = fraction, message
        self._post_running(watch)

    def _adopt(self, job_id: int, fraction: float | None, message: str) -> None:
        """A job of this tab it did not start here: a Retry from the Jobs page (the new job keeps
        the tab's session), or one that began after the tab resumed. Its row is read once; if it
        is this tab's and has a status function, the tab watches it from now on."""
        if job_id in self._looked_up or self.post is None:
            return
        self._looked_up.add(job_id)
        task = asyncio.get_running_loop().create_task(self._adopt_from_row(job_id, fraction, message))
        self._lookups.add(task)
        task.add_done_callback(self._lookups.discard)

    async def _adopt_from_row(self, job_id: int, fraction: float | None, message: str) -> None:
        try:
            job = await db_call(_active_job_of_tab)(self.session.key, self.session.info, job_id)
        except Exception as error:  # the database away: its end is still delivered from the row
            logger.info("session %s: job %s not watched (%s)", self.session.info.session_id, job_id, error)
            return
        if job is None or job_id in self.watches or job_id in self._ended:
            return  # its end came while the row was read: watching it now would tick for ever
        self._watch(job)
        self.note_progress(job_id, fraction, message)

    def _post_running(self, watch: JobWatch) -> None:
        if watch.queued or self.post is None:
            return
        # Dropped (a full queue): not queued, so the next report or tick tries again.
        watch.queued = self.post(lambda: self._run_running(watch), False)

    async def _run_running(self, watch: JobWatch) -> str:
        watch.queued = False  # from here, a new report queues the next run
        if self.watches.get(watch.job_id) is not watch:
            return ""  # ended meanwhile
        status = JobProgress(watch.count, watch.fraction, watch.message, watch.job_id)
        return await self._run_status(watch.status_function, watch.status_arguments, status, None)

    async def ended(self, job_id: int, announced: dict[str, Any] | None = None) -> str:
        """The job's end: its status function runs here at most once, whoever else heard of it.

        The tab claims the delivery in Redis first: whoever claims it runs the status function.
        ``announced``: the end message, which carries the status and (when small) the result;
        with them the status function runs at once and the row is marked delivered after the
        frame. Without them, or with Redis away, the row is read and marked first.
        """
        self._looked_up.add(job_id)  # an end: a lookup of its row under way must not watch it again
        self._ended.add(job_id)
        claimed = await _claim_delivery(job_id)
        watch = self.watches.get(job_id)
        self._forget(job_id)
        if claimed is False:
            return ""  # another delivery of this end took it
        if (
            claimed
            and watch is not None
            and announced is not None
            and "result" in announced
            and announced.get("status") in ENDED_STATUSES
        ):
            succeeded = announced["status"] == JobStatus.FINISHED
            frame = await self._run_status(
                watch.status_function,
                watch.status_arguments,
                succeeded,
                announced["result"],
                ended_error(str(announced["status"]), str(announced.get("error") or "")),
            )
            self.session.write_later(_mark_delivered(job_id))
            return frame + self._told(job_id)
        job = await db_call(_take_ended_job)(self.session.key, self.session.info, job_id)
        if job is None:
            return ""
        succeeded = job.status == JobStatus.FINISHED
        frame = await self._run_status(
            job.status_function,
            list(job.status_arguments),
            succeeded,
            job.result,
            ended_error(str(job.status), job.error),
        )
        return frame + self._told(job_id)

    def _told(self, job_id: int) -> str:
        if self.end_told is None:
            return ""
        return self.end_told(job_id, self.session.last_run_showed_toast)

    def _forget(self, job_id: int) -> None:
        watch = self.watches.pop(job_id, None)
        if watch is not None and watch.ticker is not None:
            watch.ticker.cancel()

    async def _run_status(
        self, reference: str, extra: list[Any], status: Any, result: Any, error: str | None = None
    ) -> str:
        session = self.session
        try:
            function = session.app.function(reference)
        except KeyError:
            logger.info("session %s: status function %s is gone", session.info.session_id, reference)
            session.last_run_showed_toast = False
            return ""
        arguments, keywords = status_call_arguments(
            function, session.state, status, result, extra, error=error
        )
        return await session.run_code(
            function.__name__,
            None,
            lambda: session.executor.run_function(
                session.app, reference, arguments, session.timeout, keywords
            ),
        )


async def _claim_delivery(job_id: int) -> bool | None:
    """The first to claim a job's end runs its status function (the end message may come twice,
    and a tab reconnecting elsewhere reads the row). None when Redis cannot say: the row decides."""
    key = DELIVERED_KEY.format(job_id)
    try:
        return bool(await loop_client().set(key, 1, nx=True, ex=DELIVERED_TTL_SECONDS))
    except Exception as error:
        logger.info("job %s: delivery not claimed in Redis (%s); the row decides", job_id, error)
        return None


async def _mark_delivered(job_id: int) -> None:
    try:
        await db_call(job_mark_status_delivered)(job_id=job_id)
    except Exception:
        logger.exception("job %s: its delivery was not marked on the row (Redis holds the claim)", job_id)


def _undelivered_jobs(key: SnapshotKey, info: SessionInfo) -> list[Job]:
    jobs = jobs_of_tab(
        tenant_id=key.tenant_id, app_id=key.app_id, user_id=info.user_id, session_id=info.session_id
    )
    return list(jobs.filter(status_delivered=False).exclude(status_function="").order_by("created_at"))


def _active_job_of_tab(key: SnapshotKey, info: SessionInfo, job_id: int) -> Job | None:
    jobs = jobs_of_tab(
        tenant_id=key.tenant_id, app_id=key.app_id, user_id=info.user_id, session_id=info.session_id
    )
    return jobs.filter(pk=job_id, status__in=ACTIVE_STATUSES).exclude(status_function="").first()


def _take_ended_job(key: SnapshotKey, info: SessionInfo, job_id: int) -> Job | None:
    """The tab's ended job whose status function is still to run, marked delivered: at most once."""
    jobs = jobs_of_tab(
        tenant_id=key.tenant_id, app_id=key.app_id, user_id=info.user_id, session_id=info.session_id
    )
    job = jobs.filter(pk=job_id, status_delivered=False).exclude(status_function="").first()
    if job is None or job.is_active or not job_mark_status_delivered(job_id=job.pk):
        return None
    return job
