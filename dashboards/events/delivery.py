"""Where a committed event goes: pages and sessions over the channel layer, processors over RQ.

Pages and sessions: one message to the tenant's events group, which holds one channel per
process (its ``EventHub``), whatever the number of pages open there. ``on_event`` processors:
one RQ task per release whose registered filters may match, enqueued by the one process that
committed the event (within the tenant's share of the events queue, see fair_share.py), run by
exactly one worker: that is how a callback runs once per event for
the whole platform, however many web processes and workers there are. Both are at most once
(a hint); the database is the truth.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from typing import Any

from dashboards.events.event import Event, EventFilter
from dashboards.runtime.broadcast import broadcast

logger = logging.getLogger(__name__)
MESSAGE_TYPE = "events.occurred"
PROCESS_TASK = "dashboards.events.processing.process_event"
PROCESS_TASK_TIMEOUT_SECONDS = 60

#: send(group, message): how this thread sends to the channel layer (a job's reporter sets its own).
GroupSender = Callable[[str, dict[str, Any]], None]
current_sender: contextvars.ContextVar[GroupSender | None] = contextvars.ContextVar(
    "event_sender", default=None
)
_release_filters: dict[int, list[EventFilter]] = {}  # releases are immutable: cached for good


def events_group(tenant_id: int) -> str:
    """Every process that has a page or session of this tenant open (one membership per process)."""
    return f"dashboards.events.{int(tenant_id)}"


def event_message(event: Event) -> dict[str, Any]:
    return {"type": MESSAGE_TYPE, "event": event.as_message()}


def deliver(event: Event) -> None:
    send = current_sender.get() or broadcast
    send(events_group(event.tenant_id), event_message(event))
    try:
        enqueue_processing(event)
    except Exception as error:  # Redis down: the event is in the log; processors miss it (at most once)
        logger.warning(
            "event %s: on_event processors not reached (%s: %s)", event.id, type(error).__name__, error
        )


def enqueue_processing(event: Event) -> int:
    """One task per active release of the tenant with an on_event filter that may match."""
    from dashboards.events.processing import MAX_EVENT_DEPTH  # noqa: PLC0415

    if int(event.metadata.get("depth", 0)) >= MAX_EVENT_DEPTH:
        logger.warning("event %s: emitted %d callbacks deep; not processed again", event.id, MAX_EVENT_DEPTH)
        return 0
    release_ids = releases_to_process(event)
    if not release_ids:
        return 0
    from dashboards.events.fair_share import event_task_submit  # noqa: PLC0415 - RQ only when needed

    message = event.as_message()
    for release_id in release_ids:
        event_task_submit(
            tenant_id=event.tenant_id,
            func=PROCESS_TASK,
            args=[message, release_id],
            timeout_seconds=PROCESS_TASK_TIMEOUT_SECONDS,
            failure_ttl=3600,
            description=f"event {event.id} for release {release_id}",
        )
    return len(release_ids)


def releases_to_process(event: Event) -> list[int]:
    active = load_event_filters(event.tenant_id)
    return [rid for rid in active if any(f.matches(event) for f in _release_filters.get(rid, []))]


def load_event_filters(tenant_id: int) -> list[int]:
    """The tenant's active releases, their on_event filters read into this process's cache.

    A worker calls it before it forks its work horses, so a job's events do not wait for it.
    """
    from dashboards.hosting.models import App, AppRelease  # noqa: PLC0415 - models load after apps

    active = list(
        App.objects.filter(tenant_id=tenant_id, active_release__isnull=False)
        .order_by()  # not the model's ordering: it joins the tenant to sort by its name
        .values_list("active_release_id", flat=True)
    )
    unknown = [release_id for release_id in active if release_id not in _release_filters]
    if unknown:
        for release_id, report in AppRelease.objects.filter(pk__in=unknown).values_list("pk", "report"):
            _release_filters[release_id] = _read_filters(release_id, report)
    return active


def _read_filters(release_id: int, report: Any) -> list[EventFilter]:
    """A release's on_event filters as its report lists them. An entry that cannot be read (a report
    written by something other than the validator) is left out, and said once per process (the
    result is cached): it must not stop the events of every other app of the tenant."""
    entries = report.get("on_event", []) if isinstance(report, dict) else []
    if not isinstance(entries, list):
        entries = [entries]
    filters: list[EventFilter] = []
    skipped, reason = 0, ""
    for values in entries:
        try:
            if not isinstance(values, dict):
                raise TypeError(f"{type(values).__name__} instead of a filter")
            filters.append(EventFilter.from_coarse(values))
        except (TypeError, ValueError) as error:
            skipped += 1
            reason = str(error)
    if skipped:
        logger.warning(
            "release %s: %d on_event filter(s) of its report cannot be read and are ignored (%s)",
            release_id, skipped, reason,
        )  # fmt: skip
    return filters
