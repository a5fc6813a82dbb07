"""The work horse's progress reporter on the real channel layer: coalesced, the last report always."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from channels_redis.core import RedisChannelLayer
from django.db import connections

from dashboards.jobs.limits import PROGRESS_BURST, PROGRESS_MIN_INTERVAL
from dashboards.jobs.progress import JobTarget, ProgressReporter
from dashboards.runtime.groups import tab_group

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


async def received(layer: RedisChannelLayer, channel: str) -> list[dict]:
    """Every message waiting on the channel (none for half a second: the end)."""
    messages: list[dict] = []
    while True:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), 0.5))
        except TimeoutError:
            return messages


async def test_a_tight_loop_is_coalesced_and_its_last_report_arrives(settings, redis_client) -> None:
    layer = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
    channel = await layer.new_channel()
    await layer.group_add(tab_group(7, 3, "tight-loop"), channel)

    def job() -> tuple[int, float]:  # a job's thread, reporting in a tight loop
        reporter = ProgressReporter(
            JobTarget(job_id=0, tenant_id=1, app_id=7, user_id=3, session_id="tight-loop")
        )
        started = time.monotonic()
        number = 0
        while time.monotonic() - started < 0.5:
            number += 1
            reporter.report(None, f"report {number}")
        seconds = time.monotonic() - started
        reporter.flush()
        reporter.close()
        connections.close_all()  # the row's progress was saved on this thread's own connection
        return number, seconds

    number, seconds = await asyncio.to_thread(job)
    messages = [m for m in await received(layer, channel) if m["type"] == "job.progress"]
    await layer.close_pools()
    assert number > 1000  # the loop really was tight
    # one send per interval, a burst at the start, one at the boundary, and the last one: not thousands
    assert 2 <= len(messages) <= seconds / PROGRESS_MIN_INTERVAL + PROGRESS_BURST + 3
    assert messages[0]["message"] == "report 1"  # the first at once
    assert messages[-1]["message"] == f"report {number}"  # and the last always


def test_the_row_keeps_the_progress_written_off_the_jobs_thread(jobs_lab, monkeypatch) -> None:
    """Pages opened later read it from the row; the job's own thread never waits for the database."""
    from dashboards.jobs import progress, services
    from dashboards.jobs.models import Job, JobStatus

    job = services.job_submit(tenant_id=jobs_lab.tenant_id, app_id=jobs_lab.pk,
                              release_id=jobs_lab.active_release_id, user_id=None, session_id="",
                              function="main:crunch", arguments=[])  # fmt: skip
    Job.objects.filter(pk=job.pk).update(status=JobStatus.STARTED)
    saved_by: list[str] = []

    def spy(**fields: object) -> None:
        saved_by.append(threading.current_thread().name)
        services.job_progress_save(**fields)

    monkeypatch.setattr(progress, "job_progress_save", spy)
    reporter = ProgressReporter(
        JobTarget(
            job_id=job.pk, tenant_id=job.tenant_id, app_id=job.app_id, user_id=job.user_id, session_id=""
        )
    )
    reporter.report(0.25, "a quarter")
    reporter.report(0.5, "half")  # within PROGRESS_DB_INTERVAL: sent, not written
    reporter.flush()
    reporter.close()
    job.refresh_from_db()
    assert (job.progress, job.message) == (0.25, "a quarter")
    assert saved_by and all(name.startswith("job-progress-db") for name in saved_by)
