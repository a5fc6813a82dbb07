"""Jobs on a real RQ worker process: results, failures, timeouts, cancel, retries, SIGKILL."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pytest

from dashboards.hosting.models import AppLogEntry
from dashboards.jobs import services
from dashboards.jobs.models import Job, JobStatus
from tests.jobs.conftest import wait_for


def submit(app, user, function: str, arguments: list, **options) -> Job:
    return services.job_submit(
        tenant_id=app.tenant_id, app_id=app.pk, release_id=app.active_release_id, user_id=user.pk,
        session_id="", function=f"main:{function}", arguments=arguments, **options,
    )  # fmt: skip


def ended(job: Job) -> Job | None:
    job.refresh_from_db()
    return job if job.status not in (JobStatus.QUEUED, JobStatus.STARTED) else None


def test_a_job_runs_and_keeps_its_result_progress_and_output(jobs_lab, job_worker, live_world) -> None:
    job = submit(jobs_lab, live_world.adam, "crunch", [4])
    wait_for(lambda: ended(job))
    assert job.status == JobStatus.FINISHED, job.error
    assert job.result == {"total": 6}
    assert job.progress == 1.0
    assert job.started_at and job.ended_at
    assert AppLogEntry.objects.filter(app=jobs_lab, message="crunched 4").exists()


def test_a_job_that_raises_fails_with_its_error_and_traceback_in_the_app_log(
    jobs_lab, job_worker, live_world
):
    job = submit(jobs_lab, live_world.adam, "explode", ["kaboom"])
    wait_for(lambda: ended(job))
    assert job.status == JobStatus.FAILED
    assert job.error == "ValueError: kaboom"
    logged = AppLogEntry.objects.filter(app=jobs_lab, level="error").values_list("message", flat=True)
    assert any("Traceback" in line and "kaboom" in line for line in logged)


def test_a_result_too_large_fails_with_a_clear_message(jobs_lab, job_worker, live_world) -> None:
    job = submit(jobs_lab, live_world.adam, "huge", [])
    wait_for(lambda: ended(job))
    assert job.status == JobStatus.FAILED
    assert "result is too large" in job.error


def test_a_job_past_its_timeout_fails_as_timed_out(jobs_lab, job_worker, live_world) -> None:
    job = submit(jobs_lab, live_world.adam, "sleepy", [30], timeout_seconds=1)
    wait_for(lambda: ended(job))
    assert job.status == JobStatus.FAILED
    assert job.error == "timed out after 1 s"


def test_retries_run_the_job_again_after_a_backoff(jobs_lab, job_worker, live_world, tmp_path) -> None:
    job = submit(jobs_lab, live_world.adam, "flaky", [str(tmp_path / "marker")], max_retries=2)
    wait_for(lambda: ended(job), timeout=30)
    assert job.status == JobStatus.FINISHED, job.error
    assert job.result == "second time lucky"
    assert job.attempt == 2


def test_cancel_a_queued_job(jobs_lab, live_world) -> None:
    job = submit(jobs_lab, live_world.adam, "crunch", [1])  # no worker: it stays queued
    assert services.job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED


def test_cancel_a_running_job_stops_its_work_horse(jobs_lab, job_worker, live_world) -> None:
    job = submit(jobs_lab, live_world.adam, "sleepy", [60])
    wait_for(lambda: Job.objects.filter(pk=job.pk, status=JobStatus.STARTED).exists())
    time.sleep(0.3)  # the horse is in the function
    job.refresh_from_db()
    assert services.job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.STOPPED
    # The worker is free again: the next job runs.
    follow = submit(jobs_lab, live_world.adam, "crunch", [2])
    wait_for(lambda: ended(follow))
    assert follow.status == JobStatus.FINISHED


@pytest.mark.timeout(120)
def test_a_job_whose_worker_is_killed_fails_within_30_seconds(jobs_lab, start_worker, live_world) -> None:
    first = start_worker()
    job = submit(jobs_lab, live_world.adam, "sleepy", [120])
    wait_for(lambda: Job.objects.filter(pk=job.pk, status=JobStatus.STARTED).exists())
    first.kill()
    killed_at = time.monotonic()
    start_worker()  # the next worker (or any web process) reconciles
    wait_for(lambda: ended(job), timeout=30)
    assert job.status == JobStatus.FAILED
    assert job.error == "worker died"
    assert time.monotonic() - killed_at < 30


def test_a_tenants_quota_keeps_it_from_starving_another(jobs_lab, start_worker, live_world, settings) -> None:
    from dashboards.hosting.services import app_create_or_update, release_activate, release_create

    settings.JOBS_PER_TENANT = 1
    start_worker(JOBS_PER_TENANT="1")
    globex_app = app_create_or_update(tenant=live_world.globex, slug="jobs-lab", name="Jobs lab")
    release_activate(release=release_create(app=globex_app, files=jobs_lab.active_release.files, author=None))
    globex_app.refresh_from_db()
    acme_jobs = [submit(jobs_lab, live_world.adam, "sleepy", [1]) for _ in range(3)]
    assert [bool(job.rq_id) for job in acme_jobs] == [True, False, False]  # one slot: the rest wait
    globex_job = submit(globex_app, live_world.gabe, "crunch", [2])
    wait_for(lambda: ended(globex_job), timeout=30)
    for job in acme_jobs[1:]:
        job.refresh_from_db()
    assert globex_job.ended_at < (acme_jobs[1].started_at or globex_job.ended_at + timedelta(days=1))
    for job in acme_jobs:
        wait_for(lambda job=job: ended(job), timeout=30)
    starts = sorted((job.started_at, job.ended_at) for job in acme_jobs)
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(starts))  # one at a time
