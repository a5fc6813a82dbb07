"""Jobs on a real RQ worker process: results, failures, timeouts, cancel, retries, SIGKILL, and
the spare work horse (forked before the job comes) doing all of that as a horse forked for it."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from datetime import timedelta

import psutil
import pytest
from rq.job import Job as RQJob
from rq.serializers import JSONSerializer

from dashboards.hosting.models import AppLogEntry
from dashboards.jobs import services
from dashboards.jobs.models import Job, JobStatus
from tests.jobs.conftest import JOBS_LAB_SOURCE, RunningWorker, is_running, wait_for


def submit(app, user, function: str, arguments: list, **options) -> Job:
    return services.job_submit(
        tenant_id=app.tenant_id, app_id=app.pk, release_id=app.active_release_id, user_id=user.pk,
        session_id="", function=f"main:{function}", arguments=arguments, **options,
    )  # fmt: skip


def ended(job: Job) -> Job | None:
    job.refresh_from_db()
    return job if job.status not in (JobStatus.QUEUED, JobStatus.STARTED) else None


def test_a_job_runs_and_keeps_its_result_progress_and_output(jobs_lab, job_worker, live_world) -> None:
    job = submit(jobs_lab, live_world.adam, "crunch", [400])
    wait_for(lambda: ended(job))
    assert job.status == JobStatus.FINISHED, job.error
    assert job.result == {"total": 79800}
    assert (job.progress, job.message) == (
        1.0,
        "step 400 of 400",
    )  # the last step: the row is saved once a second
    assert job.started_at and job.ended_at
    assert AppLogEntry.objects.filter(app=jobs_lab, message="crunched 400").exists()


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
    assert "its result cannot be kept: it must fit in" in job.error


def test_a_job_past_its_timeout_fails_as_timed_out(jobs_lab, job_worker, live_world) -> None:
    job = submit(jobs_lab, live_world.adam, "sleepy", [30], timeout_seconds=1)
    wait_for(lambda: ended(job))
    assert job.status == JobStatus.FAILED
    assert job.error == "timed out after 1 s"


def test_a_job_that_prints_without_end_keeps_its_result_and_its_newest_lines(
    jobs_lab, job_worker, live_world
) -> None:
    """Lines past what the app's log keeps are not held in memory, nor written before the end."""
    from dashboards.runtime.limits import APP_LOG_KEEP_LINES

    job = submit(jobs_lab, live_world.adam, "chatty", [100_000], timeout_seconds=30)
    wait_for(lambda: ended(job), timeout=60)
    assert job.status == JobStatus.FINISHED, job.error
    assert job.result == "said it all"
    lines = AppLogEntry.objects.filter(app=jobs_lab).order_by("-id").values_list("message", flat=True)
    assert lines[0] == "line 99999"
    assert len(lines) <= APP_LOG_KEEP_LINES
    assert any("earlier lines of this run were left out" in line for line in lines)


def test_sys_exit_in_a_job_is_its_failure_not_a_dead_worker(jobs_lab, job_worker, live_world) -> None:
    job = submit(jobs_lab, live_world.adam, "leaves", [])
    wait_for(lambda: ended(job))
    assert job.status == JobStatus.FAILED
    assert job.error == "SystemExit: 3"


def test_a_job_that_catches_its_timeout_still_fails_as_timed_out(jobs_lab, job_worker, live_world) -> None:
    job = submit(jobs_lab, live_world.adam, "stubborn", [4], timeout_seconds=1)
    wait_for(lambda: ended(job), timeout=30)
    assert job.status == JobStatus.FAILED
    assert job.error == "timed out after 1 s" and job.result is None


def test_a_result_no_database_can_hold_fails_with_a_clear_message(jobs_lab, job_worker, live_world) -> None:
    """A NUL in a string: PostgreSQL refuses it, and the end would not be recorded at all."""
    job = submit(jobs_lab, live_world.adam, "nul_result", [])
    wait_for(lambda: ended(job))
    assert job.status == JobStatus.FAILED
    assert job.error == "its result cannot be kept: a string in it holds a NUL character"


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


# --- the spare work horse ---
@pytest.fixture
def warm_worker(jobs_lab, job_worker, live_world) -> tuple[RunningWorker, int]:
    """A worker that has run a job of jobs_lab (its release is loaded), and its spare forked since."""
    first = submit(jobs_lab, live_world.adam, "whoami", [])
    wait_for(lambda: ended(first))
    assert first.status == JobStatus.FINISHED, first.error
    spares = wait_for(job_worker.spare_pids)
    assert len(spares) == 1
    assert first.result != spares[0]  # the release was loaded for that job: it got a horse of its own
    return job_worker, spares[0]


def run_whoami(app, user) -> int:
    job = submit(app, user, "whoami", [])
    wait_for(lambda: ended(job))
    assert job.status == JobStatus.FINISHED, job.error
    return job.result


def start_sleeping(app, user, pid_file, **options) -> tuple[Job, int]:
    """A job asleep in its function; and the pid of the process running it."""
    job = submit(app, user, "sleep_here", [60, str(pid_file)], **options)
    pid = wait_for(lambda: pid_file.exists() and pid_file.read_text())
    return job, int(pid)


def sleep_on_the_spare(warm_worker, app, user, pid_file, **options) -> tuple[Job, int]:
    """A job asleep on the worker's spare (the spare's pid is the job's process)."""
    _, spare = warm_worker
    job, pid = start_sleeping(app, user, pid_file, **options)
    assert pid == spare
    return job, spare


def test_a_job_runs_on_the_spare_forked_before_it_came(warm_worker, jobs_lab, live_world) -> None:
    worker, spare = warm_worker
    assert run_whoami(jobs_lab, live_world.adam) == spare
    wait_for(lambda: not is_running(spare))  # a horse runs one job
    replacement = wait_for(worker.spare_pids)  # forked once the horse ended, for the next job
    assert replacement != [spare]
    assert run_whoami(jobs_lab, live_world.adam) == replacement[0]


def test_a_job_of_a_release_loaded_after_the_spares_fork_gets_a_horse_forked_for_it(
    warm_worker, jobs_lab, live_world
) -> None:
    from dashboards.hosting.services import release_activate, release_create

    worker, spare = warm_worker
    release = release_create(app=jobs_lab, files={"main.py": JOBS_LAB_SOURCE + "\n# the second release\n"},
                             author=None)  # fmt: skip
    release_activate(release=release)
    jobs_lab.refresh_from_db()
    assert run_whoami(jobs_lab, live_world.adam) != spare
    assert not is_running(spare)  # it lacked the release: ended, not kept
    replacement = wait_for(worker.spare_pids)
    assert run_whoami(jobs_lab, live_world.adam) == replacement[0]  # the next spare has it


def test_a_dead_spare_is_replaced_by_a_horse_forked_for_the_job(warm_worker, jobs_lab, live_world) -> None:
    worker, spare = warm_worker
    os.kill(spare, signal.SIGKILL)
    assert run_whoami(jobs_lab, live_world.adam) != spare
    assert spare not in worker.spare_pids()


def test_stopping_a_job_on_the_spare_kills_it_as_rq_kills_a_horse(
    warm_worker, jobs_lab, live_world, redis_client, tmp_path
) -> None:
    job, spare = sleep_on_the_spare(warm_worker, jobs_lab, live_world.adam, tmp_path / "pid")
    job.refresh_from_db()
    assert services.job_cancel(job=job)
    wait_for(lambda: not is_running(spare), timeout=10)
    rq_job = RQJob.fetch(job.rq_id, connection=redis_client, serializer=JSONSerializer)
    wait_for(lambda: rq_job.get_status(refresh=True) == "stopped")  # RQ judged it a stopped job
    job.refresh_from_db()
    assert job.status == JobStatus.STOPPED
    run_whoami(jobs_lab, live_world.adam)  # the worker goes on


def test_a_job_on_the_spare_past_its_timeout_fails_as_timed_out(
    warm_worker, jobs_lab, live_world, tmp_path
) -> None:
    job, _ = sleep_on_the_spare(warm_worker, jobs_lab, live_world.adam, tmp_path / "pid", timeout_seconds=1)
    wait_for(lambda: ended(job))
    assert job.status == JobStatus.FAILED
    assert job.error == "timed out after 1 s"


@pytest.mark.timeout(120)
def test_a_spare_killed_mid_job_fails_its_job_as_a_killed_horse_does(
    warm_worker, jobs_lab, live_world, redis_client, tmp_path
) -> None:
    job, spare = sleep_on_the_spare(warm_worker, jobs_lab, live_world.adam, tmp_path / "pid")
    os.kill(spare, signal.SIGKILL)
    rq_job = RQJob.fetch(job.rq_id, connection=redis_client, serializer=JSONSerializer)
    wait_for(lambda: rq_job.get_status(refresh=True) == "failed")
    assert "terminated unexpectedly" in (rq_job.latest_result().exc_string or "")
    wait_for(lambda: ended(job), timeout=30)  # the reconciler, once its liveness key expired
    assert job.status == JobStatus.FAILED
    assert job.error == "worker died"
    run_whoami(jobs_lab, live_world.adam)  # the worker goes on


def test_no_spare_is_left_when_the_worker_stops(warm_worker) -> None:
    worker, spare = warm_worker
    worker.stop()
    assert worker.process.returncode is not None
    assert not is_running(spare)


def test_a_spare_and_the_scheduler_exit_when_their_worker_is_killed(warm_worker) -> None:
    """SIGKILL leaves no teardown: the spare reads end-of-file on its pipe and exits; RQ's scheduler
    process (it held the scheduler's locks, orphaned) gets its parent-death signal."""
    worker, spare = warm_worker
    others = [child for child in psutil.Process(worker.process.pid).children() if child.pid != spare]
    assert others, "RQ's scheduler process"
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)
    wait_for(lambda: not is_running(spare), timeout=10)
    try:
        wait_for(lambda: not any(is_running(child.pid) for child in others), timeout=10)
    finally:
        for child in others:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def test_the_worker_unloads_a_release_no_job_asked_for_in_a_while(jobs_lab, live_world, monkeypatch) -> None:
    from dashboards.jobs.worker import build_worker
    from dashboards.runtime import limits
    from dashboards.runtime.executor import get_executor

    worker = build_worker(name="unload-test")
    release = str(jobs_lab.active_release_id)
    worker._load_release(release)
    assert release in worker.loaded_releases
    assert get_executor().loaded(release) is not None
    assert worker.residency.sweep() == []  # asked for just now
    monkeypatch.setattr(limits, "RELEASE_IDLE_UNLOAD_SECONDS", 0.0)
    assert worker.residency.sweep() == [release]
    assert release not in worker.loaded_releases  # the next spare is forked without it
    assert get_executor().loaded(release) is None
    worker._load_release(release)  # the next job's release is loaded again before the fork
    assert get_executor().loaded(release) is not None


def test_a_worker_restarted_under_its_name_after_a_sigkill_starts_at_once(start_worker, redis_client) -> None:
    """RQ refused it ("an active worker named ... already") until the dead one's key expired."""
    first = start_worker(name="restarted-worker")
    os.killpg(first.process.pid, signal.SIGKILL)  # the worker and everything it forked
    first.process.wait(timeout=10)
    again = start_worker(name="restarted-worker")

    def registered_pid() -> int | None:
        value = redis_client.hget("rq:worker:restarted-worker", "pid")
        return int(value) if value else None

    wait_for(lambda: registered_pid() == again.process.pid or again.process.poll() is not None, timeout=20)
    assert again.process.poll() is None, again.log()
    assert registered_pid() == again.process.pid


@pytest.mark.parametrize("step", ["jobs_reconcile", "event_tasks_start_waiting"])
def test_a_stop_asked_for_during_maintenance_stops_the_worker(
    live_world, redis_client, monkeypatch, step
) -> None:
    """RQ's SIGTERM handler raises StopRequested wherever the worker is. Maintenance swallowed it
    with the rest of its errors, and a worker whose Redis was gone too retried forever."""
    from rq.exceptions import StopRequested

    from dashboards.jobs import worker as worker_module

    def stop_asked() -> None:
        raise StopRequested

    monkeypatch.setattr(worker_module, step, stop_asked)
    worker = worker_module.build_worker(name=f"stop-test-{step}")
    with pytest.raises(StopRequested):
        worker.run_maintenance_tasks()
