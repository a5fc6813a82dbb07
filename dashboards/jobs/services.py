"""Writes of jobs: submit, start, progress, end, retry, cancel, and the reconciler.

Every status change is a conditional update (``filter(status=...).update(...)``): when a worker
finishing a job races a user cancelling it or the reconciler failing it, exactly one wins, and
only the winner announces the end. Announcements (the tab, the Jobs page, the team) go out after
the transaction commits and are hints; the row is the truth.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from dashboards.events.services import event_emit
from dashboards.jobs import queues
from dashboards.jobs.limits import (
    ARGUMENT_SUMMARY_CHARS,
    DEFAULT_JOB_TIMEOUT_SECONDS,
    ERROR_SUMMARY_CHARS,
    JOBS_PER_TAB,
    JOBS_WAITING_PER_TENANT,
    MAX_JOB_TIMEOUT_SECONDS,
    MAX_RETRIES,
    MESSAGE_CHARS,
    RETRY_BASE_SECONDS,
    RETRY_MAX_DELAY_SECONDS,
)
from dashboards.jobs.models import ACTIVE_STATUSES, Job, JobStatus
from dashboards.jobs.specs import JobRefused, JobSpec, check_title
from dashboards.notifications.services import notification_send_to_teams, notification_send_to_users
from dashboards.runtime.broadcast import broadcast
from dashboards.runtime.codecs import storable_text
from dashboards.runtime.groups import tab_group
from dashboards.runtime.json_column import UNREADABLE_NOTE, is_unreadable
from dashboards.scenarios.submissions import scenario_job_ended, scenario_job_started, scenario_job_submitted
from dashboards.tenancy.models import Tenant

logger = logging.getLogger(__name__)
JOBS_TOPIC = "jobs"
STALE_QUEUED_SECONDS = 15  # an admitted job missing from RQ this long after admission is enqueued again


def _summary(arguments: list[Any]) -> str:
    text = ", ".join(json.dumps(a) for a in arguments)
    return text if len(text) <= ARGUMENT_SUMMARY_CHARS else text[: ARGUMENT_SUMMARY_CHARS - 1] + "…"


def job_submit(
    *,
    tenant_id: int,
    app_id: int,
    release_id: int,
    user_id: int | None,
    session_id: str,
    function: str,
    arguments: list[Any],
    status_function: str = "",
    status_arguments: list[Any] | None = None,
    period_ms: int = 0,
    timeout_seconds: int | None = None,
    max_retries: int = 0,
    scenario_id: int | None = None,
    title: str = "",
) -> Job:
    """Store a job and admit it to RQ if its tenant has a free slot; otherwise it waits its turn.

    ``scenario_id``: the job runs that scenario, and becomes its latest submission. ``title``:
    what people read of it (``specs.check_title``); "" for the function's name, humanised.
    """
    timeout = DEFAULT_JOB_TIMEOUT_SECONDS if timeout_seconds is None else int(timeout_seconds)
    if not 1 <= timeout <= MAX_JOB_TIMEOUT_SECONDS:
        raise JobRefused(f"timeout must be between 1 and {MAX_JOB_TIMEOUT_SECONDS} seconds")
    if not 0 <= int(max_retries) <= MAX_RETRIES:
        raise JobRefused(f"retries must be between 0 and {MAX_RETRIES}")
    title = check_title(title)
    if any(is_unreadable(value) for value in [arguments, status_arguments, *arguments]):
        raise JobRefused(f"its arguments cannot be read back: {UNREADABLE_NOTE}")  # an old row's
    with transaction.atomic():
        admitted, waiting = _lock_and_count(tenant_id)
        if waiting >= JOBS_WAITING_PER_TENANT:
            raise JobRefused(
                f"{waiting} jobs of this tenant are already waiting for a free slot: "
                "try again when some have run"
            )
        if session_id and _active_jobs_of_tab(tenant_id, app_id, session_id) >= JOBS_PER_TAB:
            raise JobRefused(
                f"this tab already has {JOBS_PER_TAB} jobs queued or running: "
                "wait for one to end (or cancel one on the Jobs page)"
            )
        # The common case: a free slot and nobody waiting before this job, which is admitted as
        # it is written (no second look at the queue).
        admit_now = waiting == 0 and admitted < settings.JOBS_PER_TENANT
        job = Job.objects.create(
            tenant_id=tenant_id, app_id=app_id, release_id=release_id, user_id=user_id,
            session_id=session_id, function=function, title=title, arguments=arguments,
            argument_summary=_summary(arguments), status_function=status_function,
            status_arguments=status_arguments or [], period_ms=period_ms, timeout_seconds=timeout,
            max_retries=int(max_retries), scenario_id=scenario_id, for_scenario=scenario_id is not None,
            rq_id=queues.new_rq_id() if admit_now else "",
        )  # fmt: skip
        if admit_now:
            transaction.on_commit(lambda: _enqueue_admitted(job))
        if scenario_id is not None:
            scenario_job_submitted(job=job)
        if not admit_now:
            job.rq_id = _admit_waiting(tenant_id, locked=True).get(job.pk, "")
        job_event(job, created=True)
    return job


def _active_jobs_of_tab(tenant_id: int, app_id: int, session_id: str) -> int:
    return Job.objects.filter(
        tenant_id=tenant_id, status__in=ACTIVE_STATUSES, app_id=app_id, session_id=session_id
    ).count()


def _lock_and_count(tenant_id: int) -> tuple[int, int]:
    """The tenant's admitted and waiting jobs, counted in one query (inside a transaction).

    The tenant row is locked first where the database has row locks (PostgreSQL), so concurrent
    admissions count one after another; SQLite writes one transaction at a time anyway.
    """
    if connection.features.has_select_for_update:
        list(Tenant.objects.select_for_update().filter(pk=tenant_id).values_list("pk"))
    return _count_only(tenant_id)


def _admit_waiting(tenant_id: int, *, locked: bool = False) -> dict[int, str]:
    """Give free slots of the tenant's quota to its oldest waiting jobs (inside a transaction).

    Returns the admitted jobs' RQ ids by job id. ``locked``: the caller holds the tenant's lock
    already, so its counts are still true.
    """
    admitted, waiting = _lock_and_count(tenant_id) if not locked else _count_only(tenant_id)
    free = settings.JOBS_PER_TENANT - admitted
    if free <= 0 or waiting == 0:
        return {}
    waiting_jobs = Job.objects.filter(tenant_id=tenant_id, status=JobStatus.QUEUED, rq_id="")
    admitted_now = {}
    for job in waiting_jobs.order_by("created_at", "id").only("pk", "release_id", "timeout_seconds")[:free]:
        job.rq_id = queues.new_rq_id()
        Job.objects.filter(pk=job.pk, rq_id="").update(rq_id=job.rq_id)
        transaction.on_commit(functools.partial(_enqueue_admitted, job))
        admitted_now[job.pk] = job.rq_id
    return admitted_now


def _count_only(tenant_id: int) -> tuple[int, int]:
    """(admitted, waiting). In SQL of its own: it runs in every submission and end, and building
    it with the ORM's aggregates cost more than running it (about 1.5 ms against 0.2)."""
    quote = connection.ops.quote_name
    statuses = sorted(str(status) for status in ACTIVE_STATUSES)
    sql = (
        f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {quote('rq_id')} = '' THEN 1 ELSE 0 END), 0)"  # noqa: S608
        f" FROM {quote(Job._meta.db_table)} WHERE {quote('tenant_id')} = %s"
        f" AND {quote('status')} IN ({', '.join(['%s'] * len(statuses))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id, *statuses])
        active, waiting = cursor.fetchone()
    return int(active) - int(waiting), int(waiting)


def _enqueue_admitted(job: Job) -> None:
    try:
        queues.enqueue(
            job_id=job.pk, release_id=job.release_id, rq_id=job.rq_id, timeout_seconds=job.timeout_seconds
        )
    except Exception as error:  # Redis unreachable: the row is kept, the reconciler enqueues it later
        logger.warning("job %s: not enqueued yet (%s: %s)", job.pk, type(error).__name__, error)


def job_start(*, job_id: int, rq_id: str) -> bool:
    """The worker takes the job and says so; False when it was cancelled (or taken) meanwhile."""
    if job_claim(job_id=job_id, rq_id=rq_id) is None:
        return False
    job_started_announce(job_id=job_id)
    return True


# What the work horse needs of a job it claims: read in the claim's own statement.
_CLAIMED_FIELDS = ("id", "tenant_id", "app_id", "release_id", "user_id", "session_id", "function",
                   "arguments", "timeout_seconds", "attempt", "max_retries", "scenario_id",
                   "status_function", "title")  # fmt: skip


def job_claim(*, job_id: int, rq_id: str) -> Job | None:
    """The one statement before a job's function may run: the row becomes started, and what the
    horse needs of it comes back in the same statement (``UPDATE ... RETURNING``: SQLite 3.35+,
    PostgreSQL). None when it was cancelled (or taken) meanwhile: run nothing.

    The start's event and scenario follow in ``job_started_announce``, beside the running function.
    """
    fields = [cast("models.Field[Any, Any]", Job._meta.get_field(name)) for name in _CLAIMED_FIELDS]
    quote = connection.ops.quote_name
    # The names come from the model; every value is a parameter.
    sql = (
        f"UPDATE {quote(Job._meta.db_table)} SET {quote('status')} = %s, {quote('started_at')} = %s,"  # noqa: S608
        f" {quote('message')} = %s WHERE {quote('id')} = %s AND {quote('status')} = %s"
        f" AND {quote('rq_id')} = %s RETURNING {', '.join(quote(str(field.column)) for field in fields)}"
    )
    started_at = timezone.now()
    parameters = [JobStatus.STARTED.value, connection.ops.adapt_datetimefield_value(started_at), "",
                  job_id, JobStatus.QUEUED.value, rq_id]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        row = cursor.fetchone()
    if row is None:
        return None
    read = {
        field.attname: field.from_db_value(value, None, connection)  # type: ignore[arg-type]
        if isinstance(field, models.JSONField) and isinstance(value, str)
        else value
        for field, value in zip(fields, row, strict=True)
    }
    present = [field.attname for field in Job._meta.concrete_fields if field.attname in read]
    job = Job.from_db(connection.alias, present, [read[name] for name in present])
    job.status, job.started_at, job.rq_id = JobStatus.STARTED, started_at, rq_id
    return job


def job_started_announce(*, job_id: int) -> None:
    """The start, told to pages and processors (an event) and to the job's scenario.

    The work horse does this beside the running function, before the job's end is written, so the
    user's function does not wait for it. It tells what the row says by then: a job stopped in the
    meantime is not announced as running.
    """
    with transaction.atomic():
        job = Job.objects.only("tenant_id", "app_id", "user_id", "status", "scenario_id").get(pk=job_id)
        job_event(job)
        if job.status == JobStatus.STARTED:
            scenario_job_started(job=job)


def job_progress_save(*, job_id: int, fraction: float | None, message: str) -> None:
    Job.objects.filter(pk=job_id, status=JobStatus.STARTED).update(
        progress=fraction, message=message[:MESSAGE_CHARS]
    )


Announcer = Callable[[Job], None]


def job_finish(
    *, job_id: int, result: Any, announcer: Announcer | None = None, claimed: Job | None = None,
    message: str | None = None,
) -> bool:  # fmt: skip
    """``claimed``: the work horse's copy of the row (from ``job_claim``), so the end need not read
    the row again before the tab is told (unless the job runs a scenario). ``message``: the last
    progress message the job reported (the row may hold an older one)."""
    return _end(job_id, JobStatus.FINISHED, from_statuses=[JobStatus.STARTED], announcer=announcer,
                claimed=claimed, result=result, progress=1.0, message=message)  # fmt: skip


def job_fail(
    *, job_id: int, error: str, from_statuses: list[str] | None = None, announcer: Announcer | None = None,
    claimed: Job | None = None, message: str | None = None,
) -> bool:  # fmt: skip
    return _end(job_id, JobStatus.FAILED, from_statuses=from_statuses or [JobStatus.STARTED],
                announcer=announcer, claimed=claimed, error=error, result=None, message=message)  # fmt: skip


def _end(
    job_id: int,
    status: str,
    *,
    from_statuses: list[str],
    announcer: Announcer | None = None,
    claimed: Job | None = None,
    **fields: Any,
) -> bool:
    """``announcer``: who tells the tab and the pages (the work horse, over its open connection).

    Two transactions: the end itself (and the scenario's), after which the tab is told at once
    (its status function is what the user waits for); then the tenant's next waiting jobs and the
    event for the pages and processors. If the process dies between them, the next submission or
    end of the tenant's jobs, or the reconciler, admits the waiting jobs. ``message=None`` keeps
    the row's message.
    """
    if fields.get("message") is None:
        fields.pop("message", None)
    else:
        fields["message"] = str(fields["message"])[:MESSAGE_CHARS]
    if "error" in fields:
        fields["error"] = storable_text(str(fields["error"]))[:ERROR_SUMMARY_CHARS]  # NUL: PostgreSQL
    ended_at = timezone.now()
    with transaction.atomic():
        ended = Job.objects.filter(pk=job_id, status__in=from_statuses).update(
            status=status, ended_at=ended_at, **fields
        )
        if not ended:
            return False
        if claimed is not None and claimed.pk == job_id and claimed.scenario_id is None:
            job = claimed  # what else the announcements need (app, tenant, user) is read after the tab's
            for name, value in {"status": status, "ended_at": ended_at, **fields}.items():
                setattr(job, name, value)
        else:
            job = Job.objects.select_related("app", "tenant").get(pk=job_id)
        scenario_job_ended(job=job)
        transaction.on_commit(lambda: _after_end(job, announcer))
    return True


def _after_end(job: Job, announcer: Announcer | None) -> None:
    _announce_to_tab(job, announcer)
    try:
        with transaction.atomic():
            _admit_waiting(job.tenant_id)
            job_event(job)
    except Exception:  # the end stands; the waiting jobs are admitted later (see _end)
        logger.exception("job %s: ended, but its admissions and event were not written", job.pk)
    try:
        _notify_end(job)
    except Exception:  # a notification must never undo the end of a job
        logger.exception("job %s: team notification failed", job.pk)


def job_retry_later(*, job_id: int, error: str) -> float | None:
    """After a failed attempt with retries left: back to queued, in RQ again after a backoff.

    The job keeps its slot of the quota while it waits. Returns the delay, or None when no retry
    is left (the caller then fails the job).
    """
    job = Job.objects.filter(pk=job_id, status=JobStatus.STARTED).first()
    if job is None or job.attempt > job.max_retries:
        return None
    delay = min(RETRY_BASE_SECONDS * 2 ** (job.attempt - 1), RETRY_MAX_DELAY_SECONDS)
    rq_id = queues.new_rq_id()
    message = f"attempt {job.attempt} failed ({storable_text(error[:120])}); retrying in {delay:g} s"
    updated = Job.objects.filter(pk=job_id, status=JobStatus.STARTED).update(
        status=JobStatus.QUEUED, attempt=job.attempt + 1, rq_id=rq_id, message=message[:MESSAGE_CHARS],
        progress=None,
    )  # fmt: skip
    if not updated:
        return None
    job.status = JobStatus.QUEUED
    job_event(job)
    queues.enqueue(
        job_id=job_id, release_id=job.release_id, rq_id=rq_id, timeout_seconds=job.timeout_seconds,
        delay_seconds=delay,
    )  # fmt: skip
    return delay


def job_cancel(*, job: Job) -> bool:
    """Cancel a queued job, or stop a running one (RQ's stop-job command kills its work horse)."""
    if job.status == JobStatus.QUEUED:
        if _end(job.pk, JobStatus.CANCELED, from_statuses=[JobStatus.QUEUED], message="canceled"):
            if job.rq_id:
                queues.cancel_queued(job.rq_id)
            return True
        job.refresh_from_db(fields=["status", "rq_id"])  # it started meanwhile: stopped instead
    if job.status == JobStatus.STARTED:
        if not _end(job.pk, JobStatus.STOPPED, from_statuses=[JobStatus.STARTED], message="stopped"):
            return False
        queues.stop_running(job.rq_id)
        return True
    return False


def job_submit_spec(*, spec: JobSpec, tenant_id: int, app_id: int, release_id: int, user_id: int | None,
                    session_id: str) -> Job:  # fmt: skip
    """What ``invoke_long_callback`` asked for, once its handler succeeded."""
    return job_submit(
        tenant_id=tenant_id, app_id=app_id, release_id=release_id, user_id=user_id, session_id=session_id,
        function=spec.function, arguments=spec.arguments, status_function=spec.status_function,
        status_arguments=list(spec.status_arguments), period_ms=spec.period_ms,
        timeout_seconds=spec.timeout_seconds, max_retries=spec.max_retries, title=spec.title,
    )  # fmt: skip


def job_resubmit(*, job: Job, user_id: int | None) -> Job:
    """The Retry button: the same call again, as a new job (the failed one stays as it was).

    A scenario's job goes through its scenario, as a new submission would: with the scenario's
    parameters as they are now, on the app's active release, and refused (ScenarioBusy) while the
    scenario is submitted or running. Copying the old job ran old parameters beside the
    scenario's current job, and a double click ran two. Raises JobRefused or a ScenarioError,
    whose text is for the user.
    """
    if job.scenario_id is not None or job.for_scenario:
        from dashboards.scenarios.models import Scenario  # noqa: PLC0415 - scenarios build on jobs
        from dashboards.scenarios.services import scenario_submit  # noqa: PLC0415
        from dashboards.scenarios.values import ScenarioNotFound  # noqa: PLC0415

        scenario = (
            job.scenario_id and Scenario.objects.for_tenant(job.tenant_id).filter(pk=job.scenario_id).first()
        )
        if not scenario:  # deleted: the job's scenario is unset, its results would reach nothing
            raise ScenarioNotFound("this job's scenario was deleted")
        # The app's active release, as a submission now would: its current parameters may need it.
        release_id = scenario.app.active_release_id or job.release_id
        return scenario_submit(
            scenario=scenario, function=job.function, release_id=release_id, user_id=user_id,
            session_id=job.session_id, timeout_seconds=job.timeout_seconds, title=job.title,
        )  # fmt: skip
    return job_submit(
        tenant_id=job.tenant_id, app_id=job.app_id, release_id=job.release_id, user_id=user_id,
        session_id=job.session_id, function=job.function, arguments=job.arguments,
        status_function=job.status_function, status_arguments=job.status_arguments,
        period_ms=job.period_ms, timeout_seconds=job.timeout_seconds, max_retries=job.max_retries,
        scenario_id=job.scenario_id, title=job.title,
    )  # fmt: skip


def job_mark_status_delivered(*, job_id: int) -> bool:
    """True for the one caller that marks it (the status function's end call runs at most once)."""
    return bool(Job.objects.filter(pk=job_id, status_delivered=False).update(status_delivered=True))


def jobs_reconcile() -> int:
    """Fail running jobs whose worker died; put admitted jobs that RQ lost back in the queue; admit
    waiting jobs that a free slot was not given to.

    Safe to run in every process at once: the end of a job is a conditional update. Returns the
    number of jobs it changed.
    """
    changed = 0
    running = list(reconciler_running().values_list("pk", flat=True)[:1000])
    alive = queues.alive_job_ids(running)
    for job_id in running:
        if job_id not in alive and job_fail(job_id=job_id, error="worker died"):
            logger.warning("job %s: its worker died; marked failed", job_id)
            changed += 1
    stale = timezone.now() - timedelta(seconds=STALE_QUEUED_SECONDS)
    for job in reconciler_admitted_before(stale)[:1000]:
        if not queues.rq_job_exists(job.rq_id):
            logger.warning("job %s: missing from RQ (Redis lost it?); enqueued again", job.pk)
            queues.enqueue(
                job_id=job.pk, release_id=job.release_id, rq_id=job.rq_id, timeout_seconds=job.timeout_seconds
            )
            changed += 1
    # The tenants with waiting jobs, deduplicated here: a DISTINCT in SQL would walk the tenant
    # index, that is every job of the history, instead of the status index.
    waiting = reconciler_waiting().values_list("tenant_id", flat=True)[:10_000]
    for tenant_id in sorted(set(waiting))[:1000]:
        # a slot freed by an end whose admission was lost (see _end)
        with transaction.atomic():
            admitted = _admit_waiting(tenant_id)
        if admitted:
            logger.warning("tenant %s: %d waiting jobs admitted by the reconciler", tenant_id, len(admitted))
            changed += len(admitted)
    return changed


# The reconciler's scans: across tenants (the reconciler serves them all), through the status
# index (``job_status_created``), so they stay quick however long the jobs' history grows.
def reconciler_running() -> models.QuerySet[Job]:
    return Job.objects.filter(status=JobStatus.STARTED).order_by()


def reconciler_admitted_before(when: Any) -> models.QuerySet[Job]:
    return Job.objects.filter(status=JobStatus.QUEUED, created_at__lt=when).exclude(rq_id="").order_by()


def reconciler_waiting() -> models.QuerySet[Job]:
    return Job.objects.filter(status=JobStatus.QUEUED, rq_id="").order_by()


# --- announcements (after commit; at most once) ---
def job_event(job: Job, *, created: bool = False) -> None:
    """A job's status changed: logged with the change, delivered after commit (pages, processors)."""
    event_emit(tenant_id=job.tenant_id, entity_type="job", entity_id=job.pk,
               operation="creation" if created else "update", attribute_name="status",
               attribute_value=str(job.status), app_id=job.app_id, user_id=job.user_id)  # fmt: skip


def _announce_to_tab(job: Job, announcer: Announcer | None = None) -> None:
    if announcer is not None:
        announcer(job)
    elif job.session_id:
        from dashboards.jobs.progress import job_ended_message  # noqa: PLC0415 - progress imports us

        broadcast(tab_group(job.app_id, job.user_id, job.session_id), job_ended_message(job))


def _notify_end(job: Job) -> None:
    """The app's teams hear of every end; an app without teams tells the user who started it.

    The tab that started the job, when it has a status function, usually tells its user of the
    end itself: it shows this notification's toast only if its status function showed none (the
    inbox entry, and the starter's other pages, get it as always). Two toasts of one end, the
    app's and the team's, side by side, said it twice.
    """
    if job.status == JobStatus.CANCELED:
        return
    level, verb = {
        JobStatus.FINISHED: ("success", "finished"),
        JobStatus.FAILED: ("error", "failed"),
        JobStatus.STOPPED: ("warning", "was stopped"),
    }[JobStatus(job.status)]
    message = f"{job.app.name}: {job.display_title} {verb}"
    if job.status == JobStatus.FAILED and job.error:
        message += f": {job.error[:200]}"
    link = f"/t/{job.tenant.slug}/jobs/{job.pk}/"
    told_in_tab = job.session_id and job.status_function and job.user_id is not None
    except_tab = tab_group(job.app_id, job.user_id, job.session_id) if told_in_tab else ""
    teams = list(job.app.teams.all())
    if teams:
        notification_send_to_teams(teams=teams, level=level, message=message, link=link,
                                   subject_type="job", subject_id=job.pk, except_tab=except_tab)  # fmt: skip
    elif job.user_id is not None:
        notification_send_to_users(tenant=job.tenant, users=[job.user], level=level, message=message,
                                   link=link, subject_type="job", subject_id=job.pk,
                                   except_tab=except_tab)  # fmt: skip
