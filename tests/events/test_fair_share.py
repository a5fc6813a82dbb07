"""Each tenant's share of the events queue: a slow or flooding tenant holds back no other tenant."""

from __future__ import annotations

import logging
import time

import pytest

from dashboards.events import fair_share
from dashboards.events.fair_share import (
    DROPPED,
    STARTED,
    TENANT_META,
    WAITING,
    event_task_ended,
    event_task_submit,
    event_tasks_start_waiting,
)
from tests.jobs.conftest import wait_for
from tests.support import deploy_test_app

TASK = "dashboards.events.processing.process_event"


def submit(tenant_id: int, label: str, timeout_seconds: int = 60) -> str:
    return event_task_submit(tenant_id=tenant_id, func=TASK, args=[{"label": label}, 1],
                             timeout_seconds=timeout_seconds, failure_ttl=60, description=label)  # fmt: skip


def queued() -> list[tuple[str, int]]:
    from dashboards.jobs.queues import get_events_queue

    return [(job.description, job.meta[TENANT_META]) for job in get_events_queue().get_jobs()]


@pytest.fixture
def share_of_two(settings, redis_client):
    settings.EVENT_TASKS_PER_TENANT = 2
    return redis_client


def test_past_its_share_a_tenant_waits_in_order_and_others_go_ahead(share_of_two) -> None:
    assert [submit(1, f"a{n}") for n in range(5)] == [STARTED, STARTED, WAITING, WAITING, WAITING]
    assert submit(2, "b0") == STARTED
    assert queued() == [("a0", 1), ("a1", 1), ("b0", 2)]

    first = next(job for job in _jobs() if job.description == "a0")
    assert event_task_ended(tenant_id=1, task_id=first.id) == 1
    assert [description for description, _ in queued()] == ["a0", "a1", "b0", "a2"]
    assert event_task_ended(tenant_id=1, task_id=first.id) == 0  # freed once; a second end is a no-op


def test_past_the_waiting_bound_a_task_is_dropped_and_logged(share_of_two, monkeypatch, caplog) -> None:
    monkeypatch.setattr(fair_share, "EVENT_TASKS_WAITING_PER_TENANT", 1)
    with caplog.at_level(logging.WARNING, logger="dashboards.events.fair_share"):
        assert [submit(1, f"a{n}") for n in range(4)] == [STARTED, STARTED, WAITING, DROPPED]
    assert "tenant 1: a3 not run: 1 of its events tasks are already waiting" in caplog.text


def test_a_place_whose_worker_died_is_freed_once_its_lease_ends(share_of_two, monkeypatch) -> None:
    monkeypatch.setattr(fair_share, "EVENT_TASK_LEASE_GRACE_SECONDS", 0)
    assert [submit(1, f"a{n}", timeout_seconds=1) for n in range(3)] == [STARTED, STARTED, WAITING]
    assert event_tasks_start_waiting() == 0  # nothing ended, no lease ended
    time.sleep(1.1)
    assert event_tasks_start_waiting() == 0  # leases ended, but both tasks still wait in the queue
    next(job for job in _jobs() if job.description == "a0").delete()  # what RQ holds of a dead worker's
    time.sleep(0.1)
    assert event_tasks_start_waiting() == 1
    assert [description for description, _ in queued()] == ["a1", "a2"]
    assert event_tasks_start_waiting() == 0  # nothing waits any more


def _jobs():
    from dashboards.jobs.queues import get_events_queue

    return get_events_queue().get_jobs()


SLOW_PROCESSOR_SOURCE = """
import time
from dashboards.sdk import EventProcessor

page = "<p>slow</p>"
processor = EventProcessor()


def slow(event):
    time.sleep(0.5)
    print(f"slow {event.attribute_value}")


processor.on_event(slow, entity_type="custom", entity_id="slow")
"""

QUICK_PROCESSOR_SOURCE = """
from dashboards.sdk import EventProcessor

page = "<p>quick</p>"
processor = EventProcessor()


def quick(event):
    print(f"quick {event.attribute_value}")


processor.on_event(quick, entity_type="custom", entity_id="quick")
"""


def log_lines(app) -> list[str]:
    from dashboards.hosting.models import AppLogEntry

    return list(AppLogEntry.objects.filter(app=app).order_by("pk").values_list("message", flat=True))


def test_a_tenant_flooding_slow_callbacks_delays_another_tenants_event_by_its_share_only(
    live_world, start_worker
) -> None:
    from dashboards.events.services import event_emit

    slow_app = deploy_test_app(live_world.acme, "slow-events", SLOW_PROCESSOR_SOURCE, name="Slow")
    quick_app = deploy_test_app(live_world.globex, "quick-events", QUICK_PROCESSOR_SOURCE, name="Quick")
    for n in range(6):  # queued before any worker runs: 2 in the queue, 4 waiting
        event_emit(tenant_id=live_world.acme.pk, entity_type="custom", entity_id="slow", operation="update",
                   attribute_value=n)  # fmt: skip
    event_emit(tenant_id=live_world.globex.pk, entity_type="custom", entity_id="quick", operation="update",
               attribute_value="now")  # fmt: skip
    start_worker()

    wait_for(lambda: "quick now" in log_lines(quick_app))
    assert len(log_lines(slow_app)) <= 2  # behind Acme's share, not behind its six
    wait_for(lambda: len(log_lines(slow_app)) == 6)  # and every ended task freed its place
    assert log_lines(slow_app) == [f"slow {n}" for n in range(6)]
