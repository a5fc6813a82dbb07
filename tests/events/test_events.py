"""Events: filters, emission after commit, the hub, processors once per platform, broadcasts per session."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async

from dashboards.events.event import Event, EventFilter
from tests.jobs.conftest import database_url, wait_for
from tests.support import REPO_ROOT, deploy_test_app

EVENTS_LAB_SOURCE = (Path(__file__).parent / "apps" / "events_lab.py").read_text()


# --- filters ---
EVENT = Event(entity_type="scenario", operation="update", entity_id="7", attribute_name="name")


@pytest.mark.parametrize(
    ("fields", "matches"),
    [
        ({}, True),
        ({"entity_type": "scenario"}, True),
        ({"entity_type": "job"}, False),
        ({"operation": "update"}, True),
        ({"operation": "creation"}, False),
        ({"entity_id": "7"}, True),
        ({"entity_id": 7}, True),  # ids compare as text
        ({"entity_id": "8"}, False),
        ({"attribute_name": "name"}, True),
        ({"attribute_name": "tags"}, False),
        (
            {"entity_type": "scenario", "operation": "update", "entity_id": "7", "attribute_name": "name"},
            True,
        ),
        ({"entity_type": "scenario", "operation": "deletion"}, False),
        ({"predicate": lambda event: event.entity_id == "7"}, True),
        ({"entity_type": "scenario", "predicate": lambda event: False}, False),
    ],
)
def test_the_topic_filter_matrix(fields, matches) -> None:
    assert EventFilter.build(**fields).matches(EVENT) is matches


def test_unknown_entity_types_and_operations_fail_at_registration() -> None:
    from dashboards.events.processors import EventProcessor

    processor = EventProcessor()
    with pytest.raises(
        ValueError, match="unknown entity type 'scenarios': use one of app, release, scenario"
    ):
        processor.on_event(print, entity_type="scenarios")
    with pytest.raises(ValueError, match="unknown operation 'created'"):
        processor.broadcast_on_event(print, operation="created")
    with pytest.raises(TypeError, match="is not a function"):
        processor.on_event("print")
    assert processor.subscriptions == []


def test_a_release_registering_a_bad_filter_is_invalid_with_the_message() -> None:
    from dashboards.hosting.validator import inspect_release

    source = (
        "from dashboards.sdk import EventProcessor\nEventProcessor().on_event(print, operation='exploded')\n"
    )
    report = inspect_release({"main.py": source + "page = '{% text x %}'\n"})
    assert not report["ok"]
    assert "unknown operation 'exploded'" in report["problems"][0]["message"]
    assert report["problems"][0]["line"] == 2


def test_callbacks_are_never_handlers_and_the_report_lists_on_event_filters() -> None:
    from dashboards.hosting.validator import inspect_release

    report = inspect_release({"main.py": EVENTS_LAB_SOURCE})
    assert report["ok"], report
    assert "tell" in report["handlers"] and "show" not in report["handlers"]
    assert {
        "entity_type": "custom",
        "operation": None,
        "entity_id": "ping",
        "attribute_name": None,
    } in report["on_event"]
    assert report["broadcast_on_event"] == 1


def test_events_round_trip_as_json() -> None:
    event = Event(entity_type="job", operation="update", entity_id="3", attribute_value={"a": [1]},
                  metadata={"k": "v"}, tenant_id=2, app_id=5, user_id=None, id=9)  # fmt: skip
    assert Event.from_message(json.loads(json.dumps(event.as_message()))) == event


# --- emission ---
def test_an_event_is_logged_and_delivered_after_commit_only(
    db, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from django.db import transaction

    from dashboards.events import delivery
    from dashboards.events.models import LoggedEvent
    from dashboards.events.services import event_emit
    from dashboards.tenancy.models import Tenant

    tenant = Tenant.objects.create(slug="t1", name="T1")
    delivered: list[Event] = []
    monkeypatch.setattr(delivery, "deliver", delivered.append)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                event_emit(tenant_id=tenant.pk, entity_type="custom", entity_id="x", operation="update")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert delivered == [] and not LoggedEvent.objects.for_tenant(tenant).exists()
    with django_capture_on_commit_callbacks(execute=True):
        event = event_emit(tenant_id=tenant.pk, entity_type="custom", entity_id="x", operation="update",
                           attribute_name="n", attribute_value=3)  # fmt: skip
        assert delivered == []
    assert delivered == [event] and event.id == LoggedEvent.objects.for_tenant(tenant).get().pk


def test_bad_events_are_refused_with_a_clear_message(db) -> None:
    from dashboards.events.services import EventRefused, event_emit
    from dashboards.tenancy.models import Tenant

    tenant = Tenant.objects.create(slug="t2", name="T2")
    with pytest.raises(EventRefused, match="unknown entity type 'widget'"):
        event_emit(tenant_id=tenant.pk, entity_type="widget", operation="update")
    with pytest.raises(EventRefused, match="must be JSON-serialisable"):
        event_emit(tenant_id=tenant.pk, entity_type="custom", operation="update", attribute_value={1j})
    with pytest.raises(EventRefused, match="must fit in 8192 bytes of JSON"):
        event_emit(tenant_id=tenant.pk, entity_type="custom", operation="update", attribute_value="x" * 9000)
    # What PostgreSQL cannot store is refused with a reason on every database (not a DataError there).
    with pytest.raises(EventRefused, match="attribute_value holds a NUL character"):
        event_emit(tenant_id=tenant.pk, entity_type="custom", operation="update", attribute_value="a\x00b")
    with pytest.raises(EventRefused, match="metadata holds an unpaired surrogate"):
        event_emit(tenant_id=tenant.pk, entity_type="custom", operation="update", metadata={"k": "\ud800"})
    with pytest.raises(EventRefused, match="id and attribute name holds a NUL"):
        event_emit(tenant_id=tenant.pk, entity_type="custom", operation="update", entity_id="x\x00")


def test_changes_of_apps_releases_jobs_and_notifications_are_logged(live_world) -> None:
    from dashboards.events.models import LoggedEvent
    from dashboards.hosting.services import app_create_or_update, release_activate, release_create
    from dashboards.notifications.services import notification_send_to_users

    globex_before = LoggedEvent.objects.for_tenant(live_world.globex).count()
    app = app_create_or_update(tenant=live_world.acme, slug="ev", name="Ev")
    release = release_create(app=app, files={"main.py": EVENTS_LAB_SOURCE}, author=live_world.alice)
    release_activate(release=release, actor=live_world.alice)
    notification_send_to_users(tenant=live_world.acme, users=[live_world.avery], level="info", message="hi")
    logged = list(LoggedEvent.objects.for_tenant(live_world.acme).order_by("pk").values_list(
        "entity_type", "operation", "attribute_name", "attribute_value"))  # fmt: skip
    assert ("app", "creation", "", None) in logged
    assert ("release", "creation", "status", "valid") in logged
    assert ("app", "update", "active_release", release.version) in logged
    assert ("notification", "creation", "level", "info") in logged
    assert LoggedEvent.objects.for_tenant(live_world.globex).count() == globex_before


def test_the_log_keeps_its_retention(db) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from dashboards.events.models import LoggedEvent
    from dashboards.events.services import event_log_prune
    from dashboards.tenancy.models import Tenant

    tenant = Tenant.objects.create(slug="t3", name="T3")
    LoggedEvent.objects.create(tenant=tenant, entity_type="custom", operation="update",
                               created_at=timezone.now() - timedelta(days=31))  # fmt: skip
    LoggedEvent.objects.create(tenant=tenant, entity_type="custom", operation="update")
    assert event_log_prune() == 1 and LoggedEvent.objects.for_tenant(tenant).count() == 1


# --- the hub ---
async def test_the_hub_fans_one_message_out_to_its_listeners_of_that_tenant_only(live_world) -> None:
    from dashboards.events.hub import get_hub
    from dashboards.events.services import event_emit

    hub = get_hub()
    acme_seen: list = []
    acme_too: list = []
    globex_seen: list = []
    listeners = {
        live_world.acme.pk: [acme_seen.append, acme_too.append],
        live_world.globex.pk: [globex_seen.append],
    }
    for tenant_id, functions in listeners.items():
        for function in functions:
            await hub.subscribe(tenant_id, function)
    await sync_to_async(event_emit)(tenant_id=live_world.acme.pk, entity_type="custom", entity_id="a",
                                    operation="update")  # fmt: skip
    for _ in range(100):
        if acme_seen and acme_too:
            break
        await asyncio.sleep(0.02)
    assert [e.entity_id for e in acme_seen] == ["a"] and [e.entity_id for e in acme_too] == ["a"]
    assert globex_seen == [] and hub.delivered == 1  # one message for the process, two listeners
    for tenant_id, functions in listeners.items():
        for function in functions:
            await hub.unsubscribe(tenant_id, function)
    assert hub.task is None and hub.listeners == {}


HUB_PROCESS = """
import asyncio, json, os, sys
import django
django.setup()
from dashboards.events.hub import get_hub

async def main():
    seen = []
    hub = get_hub()
    await hub.subscribe(int(sys.argv[1]), seen.append)
    print("ready", flush=True)
    while not seen:
        await asyncio.sleep(0.01)
    print(json.dumps(seen[0].as_message()), flush=True)
    await hub.unsubscribe(int(sys.argv[1]), seen.append)

asyncio.run(main())
"""


def test_events_reach_every_server_process_sharing_redis(live_world, tmp_path) -> None:
    """Two other processes (two servers, say) each get the event once; the emitter is a third."""
    from django.conf import settings

    from dashboards.events.services import event_emit

    env = {"DEBUG": "true", "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL,
           "DJANGO_SETTINGS_MODULE": "dashboards.config.settings", "PATH": "/usr/bin:/bin"}  # fmt: skip
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", HUB_PROCESS, str(live_world.acme.pk)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready", process.stdout.read()
        event_emit(tenant_id=live_world.acme.pk, entity_type="custom", entity_id="both", operation="update")
        for process in processes:
            line = process.stdout.readline()
            try:
                received = json.loads(line)
            except ValueError:
                raise AssertionError(line + process.stdout.read()) from None
            assert received["entity_id"] == "both" and received["tenant_id"] == live_world.acme.pk
        for process in processes:
            assert process.wait(timeout=20) == 0
    finally:
        for process in processes:
            process.kill()
            process.wait()
            process.stdout.close()


# --- processors ---
@pytest.fixture
def events_lab(live_world):
    return deploy_test_app(live_world.acme, "events-lab", EVENTS_LAB_SOURCE, name="Events lab")


def app_log(app) -> list[str]:
    from dashboards.hosting.models import AppLogEntry

    return list(AppLogEntry.objects.filter(app=app).order_by("pk").values_list("message", flat=True))


def test_on_event_runs_once_for_the_platform_with_two_workers(events_lab, start_worker, live_world) -> None:
    from dashboards.events.services import event_emit

    start_worker(EVENT_SUBSCRIBER_TIME_LIMIT_SECONDS="1")
    start_worker(EVENT_SUBSCRIBER_TIME_LIMIT_SECONDS="1")
    for value in (1, 2, 30):
        event_emit(tenant_id=live_world.acme.pk, entity_type="custom", entity_id="ping", operation="update",
                   attribute_value=value)  # fmt: skip
    wait_for(lambda: sum("on_event custom" in line for line in app_log(events_lab)) >= 3)
    time.sleep(1.0)  # a second worker running them again would have done so by now
    lines = app_log(events_lab)
    assert sorted(line for line in lines if line.startswith("on_event custom")) == [
        "on_event custom custom ping update 1", "on_event custom custom ping update 2",
        "on_event custom custom ping update 30",
    ]  # fmt: skip
    assert [line for line in lines if line.startswith("on_event big")] == [
        "on_event big custom ping update 30"
    ]
    assert sum("this callback fails on purpose" in line for line in lines) == 3  # reported, the others ran


def test_a_hanging_callback_is_cut_and_the_others_still_run(events_lab, start_worker, live_world) -> None:
    from dashboards.events.services import event_emit

    start_worker(EVENT_SUBSCRIBER_TIME_LIMIT_SECONDS="1")
    event_emit(tenant_id=live_world.acme.pk, entity_type="custom", entity_id="stuck", operation="update")
    wait_for(lambda: any("after-stuck" in line for line in app_log(events_lab)))
    assert any("on_event stuck: still running after 1 s" in line for line in app_log(events_lab))


def test_other_tenants_events_never_reach_a_processor(events_lab, job_worker, live_world) -> None:
    from dashboards.events.services import event_emit

    event_emit(tenant_id=live_world.globex.pk, entity_type="custom", entity_id="ping", operation="update",
               attribute_value=99)  # fmt: skip
    event_emit(tenant_id=live_world.acme.pk, entity_type="custom", entity_id="ping", operation="update",
               attribute_value=5)  # fmt: skip
    wait_for(lambda: any("on_event custom" in line for line in app_log(events_lab)))
    time.sleep(0.5)
    assert [line for line in app_log(events_lab) if line.startswith("on_event custom")] == [
        "on_event custom custom ping update 5"
    ]


# --- broadcast_on_event in sessions ---
BROADCAST_LAB_SOURCE = """
import time
from dashboards.sdk import EventProcessor

initial_state = {"marked": False, "got": "", "marks": 0}
page = '{% text got id="got" %}'
processor = EventProcessor()


def mark(state):
    state.marked = True
    state.marks += 1
    state.got = f"marked {state.marks}"


def fan(state, event):
    if state.marked:
        state.got = "half-written"
        if event.entity_id == "hang":
            time.sleep(3)
        raise ValueError("this tab's callback fails on purpose")
    state.got = f"got {event.attribute_value}"


processor.broadcast_on_event(fan, entity_type="custom")
"""


@pytest.fixture
def broadcast_lab(live_world):
    """An app whose broadcast callback fails, or hangs, in marked tabs; its time limit is 1 s."""
    return deploy_test_app(live_world.acme, "broadcast-lab", BROADCAST_LAB_SOURCE, handler_timeout_seconds=1)


async def test_a_broadcast_callback_failing_or_hanging_in_one_tab_leaves_the_others_and_itself_working(
    broadcast_lab, live_world
) -> None:
    from dashboards.events.services import event_emit
    from tests.runtime.conftest import click, open_socket

    tabs = [await open_socket(live_world.avery, app="broadcast-lab") for _ in range(4)]
    marked = tabs[0]
    assert "marked 1" in await click(marked, "mark")

    async def emit(entity_id: str, value: int) -> None:
        await sync_to_async(event_emit)(
            tenant_id=live_world.acme.pk,
            entity_type="custom",
            entity_id=entity_id,
            operation="update",
            attribute_value=value,
        )

    await emit("fan", 1)
    assert "fails on purpose" in await marked.socket.receive_from(timeout=3)  # an error toast
    for tab in tabs[1:]:
        assert "got 1" in await tab.socket.receive_from(timeout=3)
    await emit("hang", 2)
    for tab in tabs[1:]:  # not held up by the tab whose callback hangs
        assert "got 2" in await tab.socket.receive_from(timeout=3)
    assert "timed out" in await marked.socket.receive_from(timeout=3)
    assert "marked 2" in await click(marked, "mark")  # the session goes on
    assert marked.socket.output_queue.empty()  # the failed callbacks' half-written value never went out
    for tab in tabs:
        await tab.socket.disconnect()


async def test_broadcast_reaches_every_session_of_the_app_and_no_other(events_lab, live_world) -> None:
    from dashboards.events.services import event_emit
    from tests.runtime.conftest import open_socket

    alice = await open_socket(live_world.alice, app="events-lab")
    avery = await open_socket(live_world.avery, app="events-lab")
    counter = await open_socket(live_world.avery, app="counter")  # another app of the tenant
    globex = await open_socket(live_world.greta, tenant="globex", app="counter")
    # emit_event from a handler: sent once the handler succeeded (it changes nothing: no frame of its own)
    await alice.socket.send_to(text_data=json.dumps({"event": "ui:click", "handler": "tell"}))
    for opened in (alice, avery):
        frame = await opened.socket.receive_from(timeout=3)
        assert "custom ping 42" in frame
    for opened in (counter, globex):
        assert await opened.socket.receive_nothing(timeout=0.3)
    await sync_to_async(event_emit)(tenant_id=live_world.globex.pk, entity_type="custom", entity_id="other",
                                    operation="update")  # fmt: skip
    assert await alice.socket.receive_nothing(timeout=0.3)
    for opened in (alice, avery, counter, globex):
        await opened.socket.disconnect()


async def test_after_redis_loses_its_groups_the_hub_rejoins_them_for_every_socket(
    live_world, redis_client, probe_topic
) -> None:
    """Group memberships vanish when Redis restarts without persistence: the re-join restores them."""
    from dashboards.events.hub import get_hub
    from tests.live.conftest import connect_live, emit_probe

    page = await connect_live(live_world.avery, "tenant=acme&topics=probe")
    await sync_to_async(redis_client.flushdb)()  # what a restart without persistence leaves
    await emit_probe(live_world.acme.pk, {"n": 1})
    assert await page.receive_nothing(timeout=0.3)  # lost: nobody is in the group any more
    await get_hub()._rejoin()  # what the hub does when Redis is back, and every minute
    await emit_probe(live_world.acme.pk, {"n": 2})
    assert "acme avery 2" in await page.receive_from(timeout=2)
    from tests.live.test_consumer import send_to_analysts

    await send_to_analysts()  # the page's own groups (its inbox) are back too
    assert "Job done" in await page.receive_from(timeout=2)
    await page.disconnect()


async def test_a_page_that_reconnects_gets_what_changed_meanwhile(live_world, probe_topic) -> None:
    import time as clock

    from tests.live.conftest import connect_live, emit_probe

    rendered_at = int(clock.time()) - 1
    await emit_probe(live_world.acme.pk, {"n": 1})  # while the page was away
    page = await connect_live(live_world.avery, f"tenant=acme&topics=probe&since={rendered_at}")
    assert "acme avery all" in await page.receive_from(timeout=2)  # everything re-rendered
    await page.disconnect()
    quiet = await connect_live(live_world.avery, f"tenant=acme&topics=probe&since={int(clock.time()) + 1}")
    assert await quiet.receive_nothing(timeout=0.3)  # nothing changed since: nothing sent
    await quiet.disconnect()


@pytest.mark.parametrize(
    "path", ["/t/acme/events/?app=%ff%00", "/t/acme/events/?entity_id=%00", "/t/acme/scenarios/?status=%00",
             "/t/acme/scenarios/?app=x%00", "/t/acme/jobs/?%00=1"],
)  # fmt: skip
def test_a_nul_in_a_query_string_is_a_clear_400_on_every_database(client, world, path: str) -> None:
    """PostgreSQL refuses NUL in any text: these filters answered 500 there."""
    client.force_login(world.adam)
    response = client.get(path)
    assert response.status_code == 400 and b"NUL character" in response.content


async def test_a_live_socket_naming_a_tenant_with_a_nul_opens_with_no_topics(live_world) -> None:
    from tests.live.conftest import connect_live

    page = await connect_live(live_world.avery, "tenant=ac%00me&topics=probe")
    assert await page.receive_nothing(timeout=0.3)  # no 1011, no topics: a tenant with NUL names none
    await page.disconnect()


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=-1",
        "?page=99999999999999999999",
        "?app=99999999999999999999",
        "?app=%ff",
        "?app=%C2%B2",
    ],
)
def test_the_event_log_answers_odd_query_parameters_without_a_server_error(client, world, query: str) -> None:
    client.force_login(world.adam)  # a developer of Acme
    response = client.get(f"/t/acme/events/{query}")
    assert response.status_code == 200
    if "app=999" in query:
        assert 'data-testid="no-events"' in response.text  # an app that cannot exist has no events


def test_the_event_log_shows_a_custom_events_value_and_pages_with_clean_links(client, world) -> None:
    """emit_event(name, value) names no attribute: its value was not shown. "Older" was ?&page=2."""
    from dashboards.events.services import event_emit

    for n in range(101):
        event_emit(tenant_id=world.acme.pk, entity_type="custom", entity_id="ping", operation="update",
                   attribute_value={"n": n})  # fmt: skip
    client.force_login(world.adam)
    page = client.get("/t/acme/events/").text
    assert "<code>{&#x27;n&#x27;: 100}</code>" in page
    assert 'href="?page=2">Older</a>' in page
    filtered = client.get("/t/acme/events/?entity_type=custom").text
    assert 'href="?entity_type=custom&amp;page=2">Older</a>' in filtered


LOOPING_SOURCE = """
from dashboards.sdk import EventProcessor, create_scenario

initial_state = {"x": 0}
page = "{% text x %}"
processor = EventProcessor()


def again(event):
    create_scenario("child of " + str(event.entity_id))


processor.on_scenario_created(again)
"""


def test_a_loop_through_scenarios_stops_at_the_depth_limit(live_world, job_worker) -> None:
    """A callback that creates a scenario whenever a scenario is created: the scenario's event
    carries the callback's depth, so the loop ends after MAX_EVENT_DEPTH rounds (it ran forever:
    only emit_event stamped the depth)."""
    import time

    from dashboards.events.processing import MAX_EVENT_DEPTH
    from dashboards.scenarios.models import Scenario
    from dashboards.scenarios.services import scenario_create
    from tests.support import deploy_test_app

    app = deploy_test_app(live_world.acme, "looper", LOOPING_SOURCE)
    scenario_create(tenant_id=live_world.acme.pk, app_id=app.pk, name="seed")
    expected = 1 + MAX_EVENT_DEPTH  # the seed, then one per round until the limit
    deadline = time.monotonic() + 20
    while Scenario.objects.filter(app=app).count() < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # time for a round past the limit, if there were one
    assert Scenario.objects.filter(app=app).count() == expected


def test_in_the_test_client_a_failing_callback_stops_none_of_the_others() -> None:
    from dashboards.events.event import Event
    from dashboards.testing import AppTestClient

    source = """
from dashboards.sdk import EventProcessor

page = "{% text seen %}"
initial_state = {"seen": 0}
ran = []
processor = EventProcessor()


def bad(event):
    raise RuntimeError("bad callback")


def good(event):
    ran.append("good")


def show(state, event):
    state.seen += 1


processor.on_event(bad)
processor.on_event(good)
processor.broadcast_on_event(show)
"""
    client = AppTestClient(source)
    with pytest.raises(RuntimeError, match="bad callback"):
        client.deliver_event(Event(entity_type="custom", operation="update", entity_id="x"))
    assert client.app.handlers.get("good") is None
    assert client.state.seen == 1
    assert client.app.function("main:good").__globals__["ran"] == ["good"]
