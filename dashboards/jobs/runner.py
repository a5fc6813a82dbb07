"""What happens in the work horse: load the release, run the app's function, record the end.

The app's function runs through the executor with the platform's ``progress`` reporter and a
liveness key refreshed beside it; RQ's job timeout raises inside it. The outcome becomes the
job's row (finished, failed, or queued again for a retry), and the end is announced once.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from typing import Any

import redis
from django.db import connections
from rq import get_current_job
from rq.timeouts import JobTimeoutException

from dashboards.events.delivery import current_sender
from dashboards.hosting.services import app_log_append
from dashboards.jobs import queues, services
from dashboards.jobs.limits import ALIVE_REFRESH_SECONDS, LATE_GRACE_SECONDS
from dashboards.jobs.models import Job
from dashboards.jobs.progress import JobTarget, ProgressReporter, prepare_reporter_link
from dashboards.jobs.specs import bounded_result
from dashboards.runtime.applog import kept_lines
from dashboards.runtime.context import AppContext, current_app_context
from dashboards.runtime.executor import get_executor, load_release
from dashboards.runtime.json_column import is_unreadable
from dashboards.runtime.loader import AppLoadError

logger = logging.getLogger(__name__)


class AliveKey:
    """Refreshes the job's liveness key until stopped; a SIGKILL stops it too, and the key expires.

    ``client``: RQ's connection in the work horse, already open (a client of its own would connect
    before the job's function could start).
    """

    def __init__(self, job_id: int, client: redis.Redis | None = None) -> None:
        self.job_id = job_id
        self.client = client if client is not None else queues.connection()
        self.stopped = threading.Event()
        queues.mark_alive(self.client, job_id)
        self.thread = threading.Thread(target=self._refresh, name="job-alive", daemon=True)
        self.thread.start()

    def _refresh(self) -> None:
        while not self.stopped.wait(ALIVE_REFRESH_SECONDS):
            try:
                queues.mark_alive(self.client, self.job_id)
            except Exception as error:  # Redis restarting: try again at the next beat
                logger.info("job %s: liveness not refreshed (%s)", self.job_id, error)

    def stop(self) -> None:
        self.stopped.set()
        self.client.delete(queues.alive_key(self.job_id))


def warm_up() -> None:
    """Make a job's first statements for no job: in a spare work horse, while it waits for its job.

    The first run of a statement in a process costs milliseconds that the next ones do not (the
    ORM fills its caches, the memory shared with the worker is copied as it is written); a spare
    pays them before its job comes: a claim of no job (it changes no row). It opens the database
    connection too, and the progress reporter's loop and channel-layer connection.
    """
    services.job_claim(job_id=0, rq_id="")
    prepare_reporter_link()


def run_job_in_this_process(job_id: int) -> dict[str, Any]:
    current = get_current_job()
    rq_id = current.id if current is not None else ""
    alive = AliveKey(job_id, current.connection if current is not None else None)  # before it is started
    try:
        job = services.job_claim(job_id=job_id, rq_id=rq_id)
        if job is None:
            return {"skipped": "no such job, or canceled or taken"}
        reporter = ProgressReporter(
            JobTarget(
                job_id=job.pk,
                tenant_id=job.tenant_id,
                app_id=job.app_id,
                user_id=job.user_id,
                session_id=job.session_id,
            )
        )
        # The job's events (its start, its end) go out over the reporter's open connection, unwaited.
        sender = current_sender.set(reporter.send_group)
        try:
            start_announcement = StartAnnouncement(job_id)
            try:
                return _run(job, reporter, start_announcement)
            finally:
                start_announcement.wait()
        finally:
            current_sender.reset(sender)
            reporter.close()
    finally:
        alive.stop()


class StartAnnouncement:
    """The start's event and scenario status, written on a thread of their own while the function
    runs (a few milliseconds the user's function need not wait for); the job's end waits for them,
    so that pages never hear of an end before its start."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        context = contextvars.copy_context()  # the reporter's sender: the events go over its connection
        self.thread = threading.Thread(
            target=context.run, args=(self._announce,), name="job-start", daemon=True
        )
        self.thread.start()

    def _announce(self) -> None:
        try:
            services.job_started_announce(job_id=self.job_id)
        except Exception:  # the row says started; only the announcement is missing
            logger.exception("job %s: its start was not announced", self.job_id)
        finally:
            connections.close_all()  # this thread's own connection

    def wait(self) -> None:
        self.thread.join()


def _run(job: Job, reporter: ProgressReporter, start_announcement: StartAnnouncement) -> dict[str, Any]:
    log_lines: list[tuple[str, str]] = []
    try:
        executor = get_executor()
        app = load_release(job.release_id, lambda: job.release.files)
    except AppLoadError as error:
        start_announcement.wait()
        services.job_fail(job_id=job.pk, error=f"the app's code failed to load: {error}",
                          announcer=reporter.announce_end, claimed=job)  # fmt: skip
        return {"status": "failed"}
    if is_unreadable(job.arguments):  # a row from before JSON's depth limit
        start_announcement.wait()
        services.job_fail(job_id=job.pk, error=f"its arguments cannot be read back: {job.arguments}",
                          announcer=reporter.announce_end, claimed=job)  # fmt: skip
        return {"status": "failed"}
    context = AppContext(
        tenant_id=job.tenant_id,
        app_id=job.app_id,
        release_id=job.release_id,
        package=app.package,
        user_id=job.user_id,
        session_id=job.session_id,
        job_id=job.pk,
        progress_sink=reporter.report,
    )
    context_token = current_app_context.set(context)
    try:
        outcome = executor.call(app, job.function, list(job.arguments))
    finally:
        current_app_context.reset(context_token)
        reporter.flush()
    start_announcement.wait()
    log_lines += kept_lines(outcome.output)
    result, failure = None, ""
    if isinstance(outcome.exception, JobTimeoutException) or (
        job.timeout_seconds and outcome.duration > job.timeout_seconds + LATE_GRACE_SECONDS
    ):  # the second: code that caught the timeout (``except Exception``) and went on
        failure = f"timed out after {job.timeout_seconds} s"
    elif not outcome.ok:
        failure = outcome.error
        log_lines.append(("error", f"job {job.function_name} #{job.pk} failed:\n{outcome.traceback}"))
    else:
        result, failure = bounded_result(outcome.value)
    if failure and job.attempt <= job.max_retries:
        log_lines.append(("warning", f"job {job.function_name} #{job.pk}: {failure}; it will be retried"))
    if log_lines:  # before the end is announced: whoever reads the log then finds these lines
        try:
            app_log_append(app_id=job.app_id, tenant_id=job.tenant_id, release_id=job.release_id,
                           lines=log_lines)  # fmt: skip
        except Exception:  # the end must be recorded all the same (and the timeout may strike here)
            logger.exception("job %s: its %d log lines were not kept", job.pk, len(log_lines))
    if not failure:
        services.job_finish(job_id=job.pk, result=result, announcer=reporter.announce_end, claimed=job,
                            message=reporter.last_message)  # fmt: skip
        return {"status": "finished"}
    if services.job_retry_later(job_id=job.pk, error=failure) is None:
        services.job_fail(job_id=job.pk, error=failure, announcer=reporter.announce_end, claimed=job,
                          message=reporter.last_message)  # fmt: skip
    return {"status": "failed"}
