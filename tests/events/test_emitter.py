"""EventEmitter: each processing service, once, unsubscribe, success and failure callbacks,
subscribers that raise or hang, debug mode, bad input, and the rq service on a real worker."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

import pytest

from dashboards.events.emitter import EmitterError, EventEmitter
from dashboards.runtime.context import AppContext, current_app_context, run_deferred
from dashboards.testing import AppTestClient
from tests.jobs.conftest import wait_for
from tests.support import deploy_test_app

EMITTER_LAB_SOURCE = (Path(__file__).parent / "apps" / "emitter_lab.py").read_text()
LOCAL_SERVICES = ["asyncio", "threads"]


@pytest.mark.parametrize("service", LOCAL_SERVICES)
def test_sync_and_async_subscribers_get_the_arguments(service) -> None:
    emitter = EventEmitter("shop", service=service)
    seen = []

    def plain(item, quantity=1):
        seen.append(("plain", item, quantity))
        return quantity * 2

    async def coroutine(item, quantity=1):
        await asyncio.sleep(0)
        seen.append(("async", item, quantity))
        return "async done"

    emitter.subscribe("cart:add", plain)
    emitter.subscribe("cart:add", coroutine)
    emitter.subscribe("cart:remove", plain)
    emission = emitter.emit("cart:add", "apple", quantity=3)
    assert emission.wait(5)
    assert sorted(seen) == [("async", "apple", 3), ("plain", "apple", 3)]
    assert [(run.subscriber, run.ok, run.result) for run in emission.runs] == [
        ("test_sync_and_async_subscribers_get_the_arguments.<locals>.plain", True, 6),
        ("test_sync_and_async_subscribers_get_the_arguments.<locals>.coroutine", True, "async done"),
    ]


@pytest.mark.parametrize("service", LOCAL_SERVICES)
def test_emit_returns_before_the_subscribers_end(service) -> None:
    emitter = EventEmitter(service=service)
    release = threading.Event()
    emitter.subscribe("slow", lambda: release.wait(5))
    emission = emitter.emit("slow")
    assert not emission.done()
    release.set()
    assert emitter.join(5) and emission.done()


@pytest.mark.parametrize("service", LOCAL_SERVICES)
def test_once_runs_for_the_first_emission_only(service) -> None:
    emitter = EventEmitter(service=service)
    calls = []
    subscription = emitter.subscribe("ping", calls.append, once=True)
    emitter.subscribe("ping", lambda n: calls.append(n * 10))
    emitter.emit("ping", 1).wait(5)
    emitter.emit("ping", 2).wait(5)
    assert sorted(calls) == [1, 10, 20]
    assert not subscription.active
    assert subscription.unsubscribe() is False


def test_unsubscribe_by_subscription_by_callback_and_all() -> None:
    emitter = EventEmitter(service="threads")
    calls = []

    def a(n):
        calls.append(("a", n))

    def b(n):
        calls.append(("b", n))

    first = emitter.subscribe("x", a)
    emitter.subscribe("y", a)
    emitter.subscribe("x", b)
    assert first.unsubscribe() is True
    emitter.emit("x", 1).wait(5)
    assert calls == [("b", 1)]
    assert emitter.unsubscribe(a) == 1  # its subscription to "y"
    assert emitter.unsubscribe(b, "y") == 0
    emitter.subscribe("y", b)
    assert emitter.unsubscribe_all("x") == 1
    assert [s.event for s in emitter.subscriptions()] == ["y"]
    assert emitter.unsubscribe_all() == 1
    assert emitter.emit("x", 2).wait(5)
    assert calls == [("b", 1)]


def test_subscribe_as_a_decorator_and_to_every_event() -> None:
    emitter = EventEmitter(service="threads")
    seen = []

    @emitter.subscribe("greet")
    def hello(name):
        seen.append(f"hello {name}")

    emitter.subscribe(..., lambda name: seen.append(f"any {name}"))
    assert hello("direct") is None  # the decorator gives the function back unchanged
    emitter.emit("greet", "Ada").wait(5)
    emitter.emit("other", "Bob").wait(5)
    assert sorted(seen) == ["any Ada", "any Bob", "hello Ada", "hello direct"]


@pytest.mark.parametrize("service", LOCAL_SERVICES)
def test_a_raising_subscriber_never_stops_the_others_and_its_on_failure_runs(service, caplog) -> None:
    caplog.set_level(logging.INFO, logger="dashboards.events.emitter")
    emitter = EventEmitter("orders", service=service)
    outcomes = []

    def explode(order):
        raise ValueError(f"no stock for {order}")

    async def async_explode(order):
        raise KeyError(order)

    def failed(tag):
        return lambda error: outcomes.append((tag, repr(error)))

    emitter.subscribe("placed", explode, on_failure=failed("failure"))
    emitter.subscribe("placed", async_explode, on_failure=failed("afailure"))
    emitter.subscribe("placed", lambda order: order.upper(), on_success=lambda r: outcomes.append(("ok", r)))
    emission = emitter.emit("placed", "o-1")
    assert emission.wait(5)
    assert sorted(outcomes) == [
        ("afailure", "KeyError('o-1')"),
        ("failure", "ValueError('no stock for o-1')"),
        ("ok", "O-1"),
    ]
    assert [run.ok for run in emission.runs] == [False, False, True]
    assert emission.runs[0].error == "ValueError: no stock for o-1"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("explode on 'placed' failed" in line and "Traceback" in line for line in errors)


@pytest.mark.parametrize("service", LOCAL_SERVICES)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_hanging_subscriber_is_cut_at_the_time_limit_without_delaying_the_others(
    service, kind, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="dashboards.events.emitter")
    emitter = EventEmitter("slow", service=service, time_limit=1)
    done_at, failures = {}, []
    started = time.monotonic()

    def hang_sync():
        time.sleep(3)

    async def hang_async():
        await asyncio.sleep(30)

    emitter.subscribe("tick", hang_sync if kind == "sync" else hang_async, on_failure=failures.append)
    emitter.subscribe("tick", lambda: done_at.setdefault("quick", time.monotonic() - started))
    emission = emitter.emit("tick")
    assert emission.wait(4)
    assert time.monotonic() - started < 3
    assert done_at["quick"] < 0.8  # the quick one did not wait for the hung one
    assert len(failures) == 1 and isinstance(failures[0], TimeoutError)
    assert "did not finish within 1 s" in str(failures[0])
    assert emission.runs[0].timed_out and emission.runs[1].ok
    assert any("still running after 1 s" in r.getMessage() for r in caplog.records)


def test_failing_on_failure_and_on_success_callbacks_are_reported_too(caplog) -> None:
    caplog.set_level(logging.INFO, logger="dashboards.events.emitter")
    emitter = EventEmitter("cb", service="threads")
    emitter.subscribe("e", lambda: 1, on_success=lambda result: 1 / 0)
    emitter.subscribe("e", lambda: 1 / 0, on_failure=lambda error: {}["missing"])
    assert emitter.emit("e").wait(5)
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "on_success failed" in messages and "ZeroDivisionError" in messages
    assert "on_failure failed" in messages and "KeyError" in messages


def test_debug_mode_logs_the_emission_each_run_and_its_duration(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="dashboards.events.emitter")
    emitter = EventEmitter("dbg", service="threads", debug=True)

    def first():
        pass

    def second():
        raise RuntimeError("boom")

    emitter.subscribe("go", first)
    emitter.subscribe("go", second)
    emitter.emit("go").wait(5)
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert "emitter dbg: emit 'go' to 2 subscriber(s)" in debug
    assert any(line.startswith("emitter dbg: ") and "first on 'go': ok in " in line and line.endswith(" ms")
               for line in debug)  # fmt: skip
    assert any("second on 'go': failed (RuntimeError) in " in line for line in debug)


def test_quiet_by_default(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="dashboards.events.emitter")
    emitter = EventEmitter("quiet", service="threads")
    emitter.subscribe("go", lambda: None)
    emitter.emit("go").wait(5)
    assert not caplog.records


async def test_asyncio_runs_on_the_callers_loop_and_is_awaited() -> None:
    emitter = EventEmitter(service="asyncio")
    loop_thread = threading.get_ident()
    threads = {}

    async def on_loop(x):
        threads["async"] = threading.get_ident()
        return x + 1

    def off_loop(x):
        threads["plain"] = threading.get_ident()
        return x + 2

    emitter.subscribe("n", on_loop)
    emitter.subscribe("n", off_loop)
    emission = emitter.emit("n", 1)
    with pytest.raises(RuntimeError, match="await"):
        emission.wait(1)
    runs = await emission
    assert [run.result for run in runs] == [2, 3]
    assert threads["async"] == loop_thread  # async subscribers on the caller's loop
    assert threads["plain"] != loop_thread  # plain ones never block it


async def test_threads_service_keeps_async_subscribers_off_the_callers_loop() -> None:
    emitter = EventEmitter(service="threads")
    loop_thread = threading.get_ident()
    seen = []

    async def coroutine():
        seen.append(threading.get_ident())

    emitter.subscribe("n", coroutine)
    await emitter.emit("n")
    assert seen and seen[0] != loop_thread


def test_subscribers_see_the_callers_app_context_and_their_sdk_work_waits_for_their_success() -> None:
    emitter = EventEmitter(service="threads")
    sent = []
    context = AppContext(tenant_id=0, app_id=0, release_id=0, package="x", team_sink=sent.append)

    def uses_context(flag):
        context_now = current_app_context.get()
        assert context_now is not None and context_now.package == "x"
        context_now.deferred.append(lambda: sent.append({"deferred": flag}))
        if flag == "fail":
            raise ValueError("undone")

    emitter.subscribe("e", uses_context)
    token = current_app_context.set(context)
    try:
        emitter.emit("e", "fail").wait(5)
    finally:
        current_app_context.reset(token)
    assert sent == []  # the subscriber failed: its deferred work never ran
    assert context.deferred == []  # and none of it leaked into the caller's


def test_a_subscriber_loop_is_refused_past_the_depth_limit(caplog) -> None:
    caplog.set_level(logging.INFO, logger="dashboards.events.emitter")
    emitter = EventEmitter("loop", service="threads")
    runs = []

    def again(n):
        runs.append(n)
        emitter.emit("again", n + 1)

    emitter.subscribe("again", again)
    emitter.emit("again", 0)
    wait_for(lambda: any("subscribers deep" in r.getMessage() for r in caplog.records), timeout=5)
    assert emitter.join(5)
    assert runs == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"service": "celery"}, "unknown processing service 'celery': use one of 'asyncio', 'threads', 'rq'"),
        ({"service": "rq"}, "an rq emitter needs a name"),
        ({"time_limit": 0}, "time_limit must be more than 0"),
        ({"time_limit": "10"}, "time_limit is a number of seconds"),
    ],
)
def test_bad_emitter_options_are_refused_clearly(options, message) -> None:
    with pytest.raises(EmitterError, match=message):
        EventEmitter(**options)


def test_bad_event_names_and_callbacks_are_refused_clearly() -> None:
    emitter = EventEmitter(service="threads")
    with pytest.raises(EmitterError, match="an event name is a non-empty string"):
        emitter.subscribe("", print)
    with pytest.raises(TypeError, match="callback must be a function"):
        emitter.subscribe("x", "print")
    with pytest.raises(EmitterError, match="an event name"):
        emitter.emit(...)
    rq = EventEmitter("rq", service="rq")
    with pytest.raises(EmitterError, match="must be a function defined at the top level"):
        rq.subscribe("x", lambda: None)
    with pytest.raises(EmitterError, match="emit from the app's code"):
        rq.emit("x")


RQ_APP = """
from dashboards.events.emitter import EventEmitter

bus = EventEmitter("bus", service="rq")
seen = []
initial_state = {}
page = "{% button 'Go' on_click='go' %}"


def remember(value):
    seen.append(value)


bus.subscribe("e", remember, once=True)


def go(state, payload):
    bus.emit("e", payload)
"""


def test_rq_arguments_must_be_json_and_a_refused_emission_uses_up_no_once() -> None:
    client = AppTestClient({"main.py": RQ_APP})
    module = client.app.modules[0]
    with pytest.raises(EmitterError, match="arguments of an rq emission must be JSON-serialisable"):
        _emit_in(client, module.bus, {1, 2})
    assert len(module.bus.subscriptions("e")) == 1
    with pytest.raises(EmitterError, match="JSON-serialisable"):
        _emit_in(client, module.bus, float("nan"))
    client.click("go", payload={"when": "now"})  # the test client runs rq emissions in place
    assert module.seen == [{"when": "now"}]
    assert module.bus.subscriptions("e") == []


def _emit_in(client: AppTestClient, emitter: EventEmitter, value: object) -> None:
    token = current_app_context.set(
        AppContext(tenant_id=0, app_id=0, release_id=0, package=client.app.package)
    )
    try:
        emitter.emit("e", value)
    finally:
        current_app_context.reset(token)


def test_the_lab_app_in_the_test_client() -> None:
    client = AppTestClient({"main.py": EMITTER_LAB_SOURCE})
    client.click("place")
    assert client.team_notifications == [
        {"team": "Analysts", "level": "info", "message": "order 1 placed", "link": None}
    ]


# -- against the platform: the app's log, the database, a real worker -----------------------------


@pytest.fixture
def emitter_lab(live_world):
    return deploy_test_app(live_world.acme, "emitter-lab", EMITTER_LAB_SOURCE, name="Emitter lab")


def handler_context(app) -> AppContext:
    """What a tab's handler of the app runs with (this process loads the release as Daphne does)."""
    from dashboards.runtime.executor import get_executor

    loaded = get_executor().load(str(app.active_release_id), app.active_release.files)
    return AppContext(tenant_id=app.tenant_id, app_id=app.pk, release_id=app.active_release_id,
                      package=loaded.package, user_id=None, session_id="s-1")  # fmt: skip


def app_log(app) -> list[str]:
    from dashboards.hosting.models import AppLogEntry

    return list(AppLogEntry.objects.filter(app=app).order_by("id").values_list("message", flat=True))


def test_in_a_server_process_lines_go_to_the_apps_log_and_sdk_work_is_sent(emitter_lab, live_world) -> None:
    from dashboards.notifications.models import Notification

    context = handler_context(emitter_lab)
    module = __import__(f"{context.package}.main", fromlist=["local"])
    emitter = EventEmitter("inproc", service="threads", debug=True, time_limit=0.5)
    emitter.subscribe("x", module.record)
    emitter.subscribe("x", module.tell)
    emitter.subscribe("x", module.refuse, on_failure=module.reported)
    token = current_app_context.set(context)
    try:
        emission = emitter.emit("x", 7)
    finally:
        current_app_context.reset(token)
    assert emission.wait(5)
    lines = wait_for(lambda: [line for line in app_log(emitter_lab) if "order 7" in line])
    assert "recorded order 7 for 0" in lines
    assert "on_failure got ValueError: order 7 refused" in lines
    assert any("refuse on 'x' failed" in line and "Traceback" in line for line in app_log(emitter_lab))
    assert any("emitter inproc: emit 'x' to 3 subscriber(s)" in line for line in app_log(emitter_lab))
    assert Notification.objects.filter(tenant=live_world.acme, message="order 7 placed").exists()


def test_rq_subscribers_run_on_a_worker_once_the_handler_succeeded(
    emitter_lab, job_worker, live_world
) -> None:
    from dashboards.notifications.models import Notification

    context = handler_context(emitter_lab)
    module = __import__(f"{context.package}.main", fromlist=["orders"])
    token = current_app_context.set(context)
    try:
        module.orders.emit("order:placed", 41, amount=9.5)
    finally:
        current_app_context.reset(token)
    assert len(context.deferred) == 1  # from a handler: nothing is sent before it succeeded
    time.sleep(0.3)
    assert not any("order 41" in line for line in app_log(emitter_lab))
    run_deferred(context.deferred)  # what the session does once the handler succeeded
    wait_for(lambda: Notification.objects.filter(tenant=live_world.acme, message="order 41 placed").exists())
    wait_for(lambda: "on_failure got TimeoutError" in "\n".join(app_log(emitter_lab)))
    log = "\n".join(app_log(emitter_lab))
    assert log.count("recorded order 41 for 9.5") == 2  # the permanent and the once subscription
    assert "on_success got 41" in log
    assert "on_failure got ValueError: order 41 refused" in log
    assert "on_failure got TimeoutError: hang did not finish within 1 s" in log
    assert "emitter orders: emit 'order:placed' to 5 subscriber(s)" in log
    assert "hang on 'order:placed': failed (TimeoutError) in " in log
    assert "refuse on 'order:placed' failed:\nTraceback" in log


def test_rq_from_a_job_is_sent_at_once_and_a_refused_emission_is_clear(emitter_lab, job_worker) -> None:
    context = handler_context(emitter_lab)
    context.job_id = 1  # as in a job's work horse: no handler to wait for
    module = __import__(f"{context.package}.main", fromlist=["orders"])
    token = current_app_context.set(context)
    try:
        with pytest.raises(EmitterError, match="JSON-serialisable"):
            module.orders.emit("order:placed", object())
        module.orders.emit("order:placed", 42)
    finally:
        current_app_context.reset(token)
    assert context.deferred == []
    wait_for(lambda: "recorded order 42 for 0" in app_log(emitter_lab))


NESTED_SOURCE = """
import time
from dashboards.sdk import EventEmitter, EventProcessor

initial_state = {"x": 0}
page = '{% text x %}'
outer = EventEmitter("outer", service="rq")
inner = EventEmitter("inner", service="threads")
processor = EventProcessor()


def inner_sub(n):
    time.sleep(0.3)
    print("inner ran", n)


inner.subscribe("go", inner_sub)


def outer_sub(n):
    print("outer ran", n)
    inner.emit("go", n)


outer.subscribe("start", outer_sub)


def kick(event):
    outer.emit("start", 1)


processor.on_custom_event("kick", kick)
"""


def test_what_an_rq_subscriber_emits_runs_before_its_work_horse_ends(live_world, job_worker) -> None:
    """A subscriber on a worker emits on a threads emitter: the work horse waits for that
    emission (its process ends when the task returns; the inner subscribers never ran)."""
    import time

    from dashboards.events.services import event_emit
    from dashboards.hosting.models import AppLogEntry
    from tests.jobs.conftest import wait_for
    from tests.support import deploy_test_app

    def app_log() -> list[str]:
        return list(AppLogEntry.objects.filter(app=app).order_by("pk").values_list("message", flat=True))

    app = deploy_test_app(live_world.acme, "nested", NESTED_SOURCE)
    event_emit(tenant_id=live_world.acme.pk, entity_type="custom", entity_id="kick", operation="update")
    wait_for(lambda: any("inner ran 1" in line for line in app_log()), timeout=30)
    time.sleep(0.2)
    assert sum("outer ran 1" in line for line in app_log()) == 1


def test_subscribers_are_never_handlers_the_browser_could_call() -> None:
    source = """
from dashboards.sdk import EventEmitter

page = "{% text x %}"
emitter = EventEmitter("shop")


def on_order(payload, state):
    state.x = payload


def on_done(result):
    pass


emitter.subscribe("shop:order", on_order, on_success=on_done)


def place(state):
    state.x = 1
"""
    client = AppTestClient({"main.py": source})
    assert "place" in client.app.handlers
    assert "on_order" not in client.app.handlers and "on_done" not in client.app.handlers


def test_the_test_client_waits_for_what_handlers_emitted() -> None:
    """Subscribers of an emission from a plain handler (on the emitter's loop) or from an async one
    (on the handler's loop, which asyncio.run would cancel) have run when click() returns."""
    source = """
from dashboards.sdk import EventEmitter, notify_team

page = "{% text x %}"
emitter = EventEmitter("shop")
threads = EventEmitter("shop-threads", service="threads")


async def on_order(number):
    notify_team("Analysts", "info", f"order {number}")


emitter.subscribe("shop:order", on_order)
threads.subscribe("shop:order", on_order)


def plain(state):
    emitter.emit("shop:order", 1)
    threads.emit("shop:order", 2)


async def in_async(state):
    emitter.emit("shop:order", 3)
"""
    client = AppTestClient({"main.py": source})
    client.click("plain")
    assert sorted(n["message"] for n in client.team_notifications) == ["order 1", "order 2"]
    client.click("in_async")
    assert client.team_notifications[-1]["message"] == "order 3"


def test_the_test_client_does_not_wait_for_a_handlers_own_background_task() -> None:
    source = """
import asyncio

page = "{% text n %}"
initial_state = {"n": 0}


async def ticker():
    while True:
        await asyncio.sleep(0.01)


async def go(state):
    asyncio.get_running_loop().create_task(ticker())
    state.n = 1
"""
    client = AppTestClient({"main.py": source})
    client.click("go")  # returns: only emissions are waited for, the rest is cancelled as asyncio.run does
    assert client.state.n == 1


def test_an_async_subscriber_that_blocks_holds_up_only_its_own_apps_emissions(
    emitter_lab, live_world
) -> None:
    """Emitted from a plain handler, async subscribers ran on one private loop of the process:
    one app's blocking call held every tenant's deliveries. Each release has its own loop now."""
    other = deploy_test_app(live_world.acme, "emitter-other", EMITTER_LAB_SOURCE, name="Other")
    release = threading.Event()

    async def blocks() -> None:
        release.wait(10)  # a blocking call that never awaits

    async def quick() -> str:
        return "delivered"

    stuck_bus, other_bus = EventEmitter("stuck", time_limit=20), EventEmitter("other")
    stuck_bus.subscribe("go", blocks)
    other_bus.subscribe("go", quick)
    try:
        token = current_app_context.set(handler_context(emitter_lab))
        try:
            stuck = stuck_bus.emit("go")
        finally:
            current_app_context.reset(token)
        token = current_app_context.set(handler_context(other))
        try:
            delivered = other_bus.emit("go")
        finally:
            current_app_context.reset(token)
        assert delivered.wait(5) and [run.result for run in delivered.runs] == ["delivered"]
        assert not stuck.done()
    finally:
        release.set()
    assert stuck.wait(5) and stuck.runs[0].ok


def test_an_async_subscriber_blocking_its_releases_loop_is_written_off_at_its_limit(emitter_lab) -> None:
    """Nothing on a blocked loop can time it out: the emission waited for the blocking call to
    return, and so did every later async call of the release. The loop is looked at from outside."""
    unblock = threading.Event()

    async def blocks() -> None:
        unblock.wait(20)  # never awaits

    async def quick() -> str:
        return "delivered"

    bus = EventEmitter("stuck", time_limit=0.5)
    bus.subscribe("block", blocks)
    bus.subscribe("quick", quick)
    token = current_app_context.set(handler_context(emitter_lab))
    try:
        started = time.monotonic()
        stuck = bus.emit("block")
        assert stuck.wait(10)
        assert time.monotonic() - started < 5  # its limit, then a second to see the loop stuck
        assert [(run.ok, run.timed_out) for run in stuck.runs] == [(False, True)]
        again = bus.emit("quick")  # the same release, on a new loop
        assert again.wait(5) and [run.result for run in again.runs] == ["delivered"]
    finally:
        current_app_context.reset(token)
        unblock.set()
    wait_for(
        lambda: any("kept the app's event loop busy past 0.5 s" in line for line in app_log(emitter_lab))
    )
