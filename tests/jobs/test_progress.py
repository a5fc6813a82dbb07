"""The work horse's progress reporter on the real channel layer: coalesced, the last report always."""

from __future__ import annotations

import asyncio
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
    await layer.group_add(tab_group(7, "tight-loop"), channel)

    def job() -> tuple[int, float]:  # a job's thread, reporting in a tight loop
        reporter = ProgressReporter(JobTarget(job_id=0, tenant_id=1, app_id=7, session_id="tight-loop"))
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
