"""A tab taking up a job it did not start (a Retry from the Jobs page), against the job's end."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from dashboards.runtime import long_callbacks
from dashboards.runtime.long_callbacks import TabJobs


async def test_a_job_whose_end_comes_while_its_row_is_read_is_not_watched(monkeypatch, redis_client) -> None:
    """The row said running; the end arrived before the read came back: watching it then ran its
    status function as "running" for as long as the tab stayed open."""
    row_read, hand_back = asyncio.Event(), asyncio.Event()

    def gated_db_call(function):
        async def call(*args):
            if function is not long_callbacks._active_job_of_tab:
                return None  # the ended job's row: already taken by another delivery
            row_read.set()
            await hand_back.wait()
            return SimpleNamespace(pk=7, status_function="main:on_status", status_arguments=[], period_ms=50)

        return call

    monkeypatch.setattr(long_callbacks, "db_call", gated_db_call)  # the database read's timing, forced
    session = SimpleNamespace(write_later=lambda coroutine: coroutine.close(), key=None,
                              info=SimpleNamespace(session_id="s"))  # fmt: skip
    jobs = TabJobs(session)
    posted = []
    jobs.post = lambda work, keep: posted.append(work) or True
    jobs.note_progress(7, 0.9, "last step")  # a job the tab does not know: its row is read
    await row_read.wait()
    await jobs.ended(7, {"status": "finished", "result": 1})
    hand_back.set()
    await asyncio.sleep(0.2)
    assert 7 not in jobs.watches and posted == []
    jobs.close()
