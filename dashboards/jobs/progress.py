"""Progress of a running job, from the work horse to the tab and the Jobs page, coalesced.

A job may call ``progress()`` in a tight loop. Reports are coalesced per job: the first goes out
at once, later ones at most one every PROGRESS_MIN_INTERVAL seconds on average (PROGRESS_BURST at
once), and the last one always. They travel on the Redis channel layer from one event loop owned
by a thread of the work horse, so the job's own thread never waits for Redis. The row keeps the
latest progress too (at most once every PROGRESS_DB_INTERVAL, for pages opened later), written by
a thread of its own after the send: neither the job nor the tab waits for the database.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers  # type: ignore[attr-defined]
from django.db import connections

from dashboards.events.delivery import event_message, events_group
from dashboards.events.event import EntityType, Event, Operation
from dashboards.jobs.limits import (
    ENDED_MESSAGE_RESULT_BYTES,
    MESSAGE_CHARS,
    PROGRESS_BURST,
    PROGRESS_DB_INTERVAL,
    PROGRESS_MIN_INTERVAL,
)
from dashboards.jobs.services import job_progress_save
from dashboards.runtime.codecs import json_size
from dashboards.runtime.groups import tab_group

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobTarget:
    job_id: int
    tenant_id: int
    app_id: int
    user_id: int | None
    session_id: str


def job_ended_message(job: Any) -> dict[str, Any]:
    """What the tab hears when its job ends: with the status and a small result, so its status
    function runs without reading the row first (a larger result is read from the row)."""
    message: dict[str, Any] = {"type": "job.ended", "job_id": job.pk, "status": str(job.status)}
    if job.error:  # a status function may ask for it (``error=``)
        message["error"] = job.error  # at most ERROR_SUMMARY_CHARS, as kept
    size = json_size(job.result)
    if size is not None and size <= ENDED_MESSAGE_RESULT_BYTES:
        message["result"] = job.result
    return message


class ReporterLink:
    """A reporter's event loop, on a thread of its own, and its channel layer (its connection)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="job-progress", daemon=True)
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.thread.start()

    def connect(self, timeout: float = 2.0) -> None:
        """Open the layer's connections now (a job's first report would otherwise open them)."""
        asyncio.run_coroutine_threadsafe(self._connect(), self.loop).result(timeout)

    async def _connect(self) -> None:
        connection = getattr(self.layer, "connection", None)  # channels-redis; other layers: nothing to open
        if connection is None:
            return
        for index in range(len(getattr(self.layer, "hosts", ()))):
            await connection(index).ping()


_link_ahead: ReporterLink | None = None


def prepare_reporter_link() -> None:
    """In a spare work horse, while it waits: its job's reporter starts connected."""
    global _link_ahead  # noqa: PLW0603 - one per spare process
    link = ReporterLink()
    _link_ahead = link
    link.connect()


def _take_link() -> ReporterLink:
    global _link_ahead
    link, _link_ahead = _link_ahead, None
    return link if link is not None else ReporterLink()


class ProgressReporter:
    def __init__(self, target: JobTarget) -> None:
        self.target = target
        link = _take_link()
        self._loop = link.loop
        self._thread = link.thread
        self._layer = link.layer
        self._latest: tuple[float | None, str] | None = None
        self._next_send = 0.0  # when a send is due by the rate (monotonic seconds)
        self._in_order = asyncio.Lock()  # progress sends, one after the other (asyncio's lock is fair)
        self._flush_pending = False
        self._save_due_at = 0.0  # when the row may take the next progress (monotonic seconds)
        self._saver: ThreadPoolExecutor | None = None  # one thread, its own database connection
        self._sends: set[asyncio.Future[Any]] = set()
        # The last message the job reported, for its row at its end: the row takes progress at
        # most once a second, so it kept an older step ("Finished, 100%, Step 6 of 10").
        self.last_message: str | None = None

    # --- the job's thread ---
    def report(self, fraction: float | None, message: str) -> None:
        if fraction is not None:
            fraction = min(max(float(fraction), 0.0), 1.0)
        message = str(message)[:MESSAGE_CHARS]
        self.last_message = message
        self._loop.call_soon_threadsafe(self._on_report, fraction, message)

    def send_group(self, group: str, message: dict[str, Any]) -> None:
        """Send over this loop's connection without making the job wait (events of the job's rows)."""
        self._loop.call_soon_threadsafe(self._spawn, self._send_group(group, message))

    def flush(self, timeout: float = 2.0) -> None:
        """Send the pending report now: the job's end must not overtake its last progress."""
        self._wait(self._drain(), timeout)

    def announce_end(self, job: Any, timeout: float = 2.0) -> None:
        """The end, to the tab and the Jobs pages, over this open connection (no new one)."""
        self._wait(self._send_end(job_ended_message(job)), timeout)

    def close(self, timeout: float = 2.0) -> None:
        self._wait(self._drain(), timeout)
        self._wait(self._close_connections(), timeout)
        if self._saver is not None:  # its last write, then its connection
            self._saver.submit(connections.close_all)
            self._saver.shutdown(wait=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()

    def _wait(self, coroutine: Any, timeout: float) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            future.result(timeout)
        except Exception as error:  # Redis unreachable: these are hints, the row is the truth
            logger.info("job %s: an update was not delivered (%s)", self.target.job_id, error)

    # --- the loop's thread ---
    def _on_report(self, fraction: float | None, message: str) -> None:
        """A report goes out at once if the job is within its rate, else when it is, coalesced.

        The rate is kept as a schedule of sends (a cell-rate check, with a burst of
        PROGRESS_BURST): a send that goes out late does not push the next ones back, so a job
        that reports about as often as the limit allows is never delayed.
        """
        self._latest = (fraction, message)
        if self._flush_pending:
            return
        now = time.monotonic()
        allowed_at = self._next_send - PROGRESS_MIN_INTERVAL * (PROGRESS_BURST - 1)
        self._next_send = max(self._next_send, now) + PROGRESS_MIN_INTERVAL
        self._flush_pending = True
        if allowed_at <= now:
            self._flush()
        else:
            self._loop.call_later(allowed_at - now, self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        if self._latest is None:
            return
        fraction, message = self._latest
        self._latest = None
        self._spawn(self._send(fraction, message))

    def _spawn(self, coroutine: Any) -> None:
        task = self._loop.create_task(coroutine)
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send(self, fraction: float | None, message: str) -> None:
        async with self._in_order:  # two sends at once (a burst, a slow Redis) must not overtake
            await self._send_now(fraction, message)

    async def _send_now(self, fraction: float | None, message: str) -> None:
        target = self.target
        try:
            if target.session_id:
                await self._layer.group_send(
                    tab_group(target.app_id, target.user_id, target.session_id),
                    {
                        "type": "job.progress",
                        "job_id": target.job_id,
                        "progress": fraction,
                        "message": message,
                    },
                )
            await self._live(fraction, message)
        except Exception as error:
            logger.info("job %s: progress not delivered (%s)", target.job_id, error)
        self._save(fraction, message)

    def _save(self, fraction: float | None, message: str) -> None:
        """The row's progress, for pages opened later: after the send, on the saver's thread."""
        now = time.monotonic()
        if now < self._save_due_at:
            return
        self._save_due_at = now + PROGRESS_DB_INTERVAL
        if self._saver is None:
            self._saver = ThreadPoolExecutor(1, thread_name_prefix="job-progress-db")
        self._saver.submit(_save_progress, self.target.job_id, fraction, message)

    async def _send_group(self, group: str, message: dict[str, Any]) -> None:
        try:
            await self._layer.group_send(group, message)
        except Exception as error:
            logger.info("job %s: an event was not delivered (%s)", self.target.job_id, error)

    async def _send_end(self, message: dict[str, Any]) -> None:
        target = self.target
        if target.session_id:
            await self._layer.group_send(tab_group(target.app_id, target.user_id, target.session_id), message)

    async def _live(self, fraction: float | None, message: str) -> None:
        """Progress as an event that is delivered, never logged: the Jobs pages follow it live."""
        target = self.target
        event = Event(entity_type=EntityType.JOB.value, operation=Operation.UPDATE.value,
                      entity_id=str(target.job_id),
                      attribute_name="progress", attribute_value={"fraction": fraction, "message": message},
                      tenant_id=target.tenant_id, app_id=target.app_id)  # fmt: skip
        await self._layer.group_send(events_group(target.tenant_id), event_message(event))

    async def _close_connections(self) -> None:
        close_pools = getattr(self._layer, "close_pools", None)  # channels-redis
        if close_pools is not None:
            await close_pools()

    async def _drain(self) -> None:
        if self._flush_pending or self._latest is not None:
            self._flush()
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)


def _save_progress(job_id: int, fraction: float | None, message: str) -> None:
    try:
        job_progress_save(job_id=job_id, fraction=fraction, message=message)
    except Exception as error:  # the pages got it live; the row catches up at the next save or the end
        logger.info("job %s: progress not saved on its row (%s)", job_id, error)
