"""Job services without a worker: admission under the quota, single ends, reconciling, notifying."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rq.job import Job as RQJob

from dashboards.jobs import queues, services
from dashboards.jobs.limits import JOB_TITLE_MAX_CHARS
from dashboards.jobs.models import Job, JobStatus
from dashboards.jobs.specs import JobRefused, check_title, encode_arguments, humanised_name
from dashboards.notifications.models import Notification


def submit(app, user=None, **options) -> Job:
    return services.job_submit(
        tenant_id=app.tenant_id, app_id=app.pk, release_id=app.active_release_id,
        user_id=user.pk if user else None, session_id="", function="main:crunch", arguments=[1], **options,
    )  # fmt: skip


def test_arguments_must_be_json(world) -> None:
    assert encode_arguments((1, "two", [3.0], {"four": None})) == [1, "two", [3.0], {"four": None}]
    for bad in ([object()], [float("nan")], "not a list", ["x" * 70_000]):
        with pytest.raises(JobRefused):
            encode_arguments(bad)


def test_a_tenant_gets_at_most_its_quota_of_jobs_in_the_queue(jobs_lab, settings, redis_client) -> None:
    settings.JOBS_PER_TENANT = 2
    jobs = [submit(jobs_lab) for _ in range(3)]
    assert [bool(job.rq_id) for job in jobs] == [True, True, False]  # the third waits in the database
    assert queues.get_queue().count == 2
    Job.objects.filter(pk=jobs[0].pk).update(status=JobStatus.STARTED)
    assert services.job_finish(job_id=jobs[0].pk, result=None)
    jobs[2].refresh_from_db()
    assert jobs[2].rq_id and RQJob.exists(jobs[2].rq_id, connection=redis_client)


def test_a_tab_and_a_tenant_may_queue_only_so_many_jobs(jobs_lab, settings, monkeypatch, redis_client):
    """One viewer clicking a job button fast, or one handler asking for thousands, is refused."""
    settings.JOBS_PER_TENANT = 1
    monkeypatch.setattr(services, "JOBS_PER_TAB", 3)
    monkeypatch.setattr(services, "JOBS_WAITING_PER_TENANT", 5)

    def from_tab(session_id: str) -> Job:
        return services.job_submit(
            tenant_id=jobs_lab.tenant_id, app_id=jobs_lab.pk, release_id=jobs_lab.active_release_id,
            user_id=None, session_id=session_id, function="main:crunch", arguments=[1],
        )  # fmt: skip

    for _ in range(3):
        from_tab("tab-one-abcdef")
    with pytest.raises(JobRefused, match="this tab already has 3 jobs queued or running"):
        from_tab("tab-one-abcdef")
    job = from_tab("tab-two-abcdef")  # another tab is counted apart
    services.job_cancel(job=job)  # an ended job frees its place
    for _ in range(3):
        from_tab("tab-two-abcdef")
    with pytest.raises(JobRefused, match="5 jobs of this tenant are already waiting"):
        from_tab("tab-three-abcd")
    assert Job.objects.filter(tenant_id=jobs_lab.tenant_id, status=JobStatus.QUEUED).count() == 6


def test_waiting_jobs_are_admitted_oldest_first(jobs_lab, settings, redis_client) -> None:
    settings.JOBS_PER_TENANT = 1
    running, first, second = (submit(jobs_lab) for _ in range(3))
    assert (bool(running.rq_id), first.rq_id, second.rq_id) == (True, "", "")
    settings.JOBS_PER_TENANT = 2  # a slot frees up: the next submission must not jump the queue
    third = submit(jobs_lab)
    first.refresh_from_db()
    assert first.rq_id and not third.rq_id
    assert Job.objects.filter(pk=second.pk, rq_id="").exists()


def test_a_claimed_job_is_announced_as_the_row_says(jobs_lab, redis_client) -> None:
    from dashboards.events.models import LoggedEvent

    job = submit(jobs_lab)
    claimed = services.job_claim(job_id=job.pk, rq_id=job.rq_id)
    assert (claimed.pk, claimed.function, claimed.arguments, claimed.release_id, claimed.status) == (
        job.pk, "main:crunch", [1], job.release_id, JobStatus.STARTED,
    )  # fmt: skip
    assert Job.objects.get(pk=job.pk).started_at is not None
    assert services.job_claim(job_id=job.pk, rq_id=job.rq_id) is None  # taken once
    statuses = LoggedEvent.objects.filter(entity_type="job", entity_id=str(job.pk)).order_by("pk")
    assert list(statuses.values_list("attribute_value", flat=True)) == ["queued"]  # not announced yet
    services.job_started_announce(job_id=job.pk)
    assert list(statuses.values_list("attribute_value", flat=True)) == ["queued", "started"]
    stopped = submit(jobs_lab)  # stopped between its claim and its announcement: never "started"
    assert services.job_claim(job_id=stopped.pk, rq_id="another") is None
    services.job_claim(job_id=stopped.pk, rq_id=stopped.rq_id)
    Job.objects.filter(pk=stopped.pk).update(status=JobStatus.STOPPED)
    services.job_started_announce(job_id=stopped.pk)
    events = LoggedEvent.objects.filter(entity_type="job", entity_id=str(stopped.pk)).order_by("pk")
    assert list(events.values_list("attribute_value", flat=True)) == ["queued", "stopped"]


def test_the_reconciler_admits_what_a_lost_admission_left_waiting(jobs_lab, settings, redis_client) -> None:
    settings.JOBS_PER_TENANT = 1
    first, second = submit(jobs_lab), submit(jobs_lab)
    Job.objects.filter(pk=first.pk).update(status=JobStatus.FINISHED)  # ended, as if the process died then
    assert services.jobs_reconcile() == 1
    second.refresh_from_db()
    assert second.rq_id and RQJob.exists(second.rq_id, connection=redis_client)
    assert services.jobs_reconcile() == 0


def test_a_job_ends_once_however_many_try(jobs_lab, redis_client) -> None:
    job = submit(jobs_lab)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.STARTED)
    assert services.job_fail(job_id=job.pk, error="worker died")
    assert not services.job_finish(job_id=job.pk, result=42)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.result is None


def test_the_reconciler_fails_jobs_whose_liveness_expired(jobs_lab, redis_client) -> None:
    alive, dead = submit(jobs_lab), submit(jobs_lab)
    Job.objects.filter(pk__in=[alive.pk, dead.pk]).update(status=JobStatus.STARTED)
    queues.mark_alive(redis_client, alive.pk)
    assert services.jobs_reconcile() == 1
    assert Job.objects.get(pk=dead.pk).error == "worker died"
    assert Job.objects.get(pk=alive.pk).status == JobStatus.STARTED


def test_the_reconciler_enqueues_again_what_redis_lost(jobs_lab, redis_client) -> None:
    job = submit(jobs_lab)
    redis_client.flushdb()  # Redis restarted without its data
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert services.jobs_reconcile() == 1
    assert RQJob.exists(job.rq_id, connection=redis_client)


def test_the_apps_team_hears_of_the_end(jobs_lab, live_world, redis_client) -> None:
    from dashboards.tenancy.models import Team

    jobs_lab.teams.add(Team.objects.get(tenant=live_world.acme, name="Analysts"))
    job = submit(jobs_lab, live_world.adam)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.STARTED)
    services.job_fail(job_id=job.pk, error="ValueError: no data")
    rows = Notification.objects.filter(subject_type="job", subject_id=job.pk)
    assert sorted(rows.values_list("user__username", flat=True)) == ["alice", "avery"]
    assert all(
        r.level == "error" and "no data" in r.message and r.link == f"/t/acme/jobs/{job.pk}/" for r in rows
    )


def test_an_app_without_teams_tells_who_started_the_job(jobs_lab, live_world, redis_client) -> None:
    job = submit(jobs_lab, live_world.adam)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.STARTED)
    services.job_finish(job_id=job.pk, result=1)
    rows = Notification.objects.filter(subject_id=job.pk)
    assert list(rows.values_list("user__username", "level")) == [("adam", "success")]


@pytest.mark.parametrize(
    ("title", "told"),
    [("Quarterly sales", "Jobs lab: Quarterly sales finished"), ("", "Jobs lab: Crunch finished")],
)
def test_the_end_is_told_with_the_jobs_title_not_its_function(jobs_lab, live_world, title, told) -> None:
    """The title the app gave, or the function's name as people read it ("build_report finished"
    named the code); the Jobs page and the job's own page say the same."""
    job = submit(jobs_lab, live_world.adam, title=title)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.STARTED)
    services.job_finish(job_id=job.pk, result=1)
    assert list(Notification.objects.filter(subject_id=job.pk).values_list("message", flat=True)) == [told]
    client = Client()
    client.force_login(live_world.adam)
    named = told.removeprefix("Jobs lab: ").removesuffix(" finished")
    assert f"#{job.pk} {named}</a>" in client.get("/t/acme/jobs/").text
    assert f"Job #{job.pk}: {named}</h1>" in client.get(f"/t/acme/jobs/{job.pk}/").text


def test_a_retry_keeps_the_title(jobs_lab, live_world) -> None:
    job = submit(jobs_lab, live_world.adam, title="Quarterly sales")
    services.job_cancel(job=job)
    assert services.job_resubmit(job=job, user_id=live_world.adam.pk).title == "Quarterly sales"


def test_a_title_is_one_line_of_text_within_its_limit() -> None:
    assert humanised_name("build_report") == "Build report"
    assert humanised_name("_load__EU_data_") == "Load EU data"
    assert check_title(None) == "" and check_title("  Sales\n report ") == "Sales report"
    for bad in (3, "x" * (JOB_TITLE_MAX_CHARS + 1), "a\x00b"):
        with pytest.raises(JobRefused):
            check_title(bad)


@pytest.mark.parametrize("scan", ["running", "admitted_before", "waiting"])
def test_the_reconcilers_scans_use_the_status_index(scan, world) -> None:
    """They run every few seconds in every process over a table that keeps every job's history."""
    from django.db import connection

    queryset = {
        "running": services.reconciler_running,
        "admitted_before": lambda: services.reconciler_admitted_before(timezone.now()),
        "waiting": services.reconciler_waiting,
    }[scan]()
    if connection.vendor == "postgresql":  # its planner reads a tiny test table whole otherwise
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    assert "job_status_created" in queryset.explain()
