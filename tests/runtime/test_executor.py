"""The executor's batches: one event's callback in many tabs, handed to the pool together."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

from dashboards.runtime import executor as executor_module
from dashboards.runtime.applog import current_output
from dashboards.runtime.executor import InProcessExecutor
from dashboards.runtime.state import SessionState

SOURCE = 'page = "{% text x %}"\n'


@pytest.fixture
def executor_and_app():
    executor = InProcessExecutor()
    return executor, executor.load(f"batch-{uuid.uuid4().hex[:8]}", {"main.py": SOURCE})


async def test_calls_made_in_one_turn_share_one_hand_off_and_keep_their_own_results(
    executor_and_app, monkeypatch
) -> None:
    # The batch samples how fast its first thread goes; on a loaded machine (CI's other workers)
    # that thread may not have run at all within the usual 1 ms, which reads as a stuck call.
    monkeypatch.setattr(executor_module, "BATCH_RATE_SAMPLE_SECONDS", 0.05)
    executor, app = executor_and_app
    threads: list[int] = []

    def call(n: int):
        def run() -> None:
            threads.append(threading.get_ident())
            current_output.get().append(("info", f"tab {n}"))  # what an app's print does
            if n == 3:
                raise ValueError("tab 3 fails")
            if n == 5:
                raise SystemExit("tab 5 leaves")  # only that tab's failure; the batch goes on

        return run

    outcomes = await asyncio.gather(*(executor.run_batched(app, "tick", call(n), 5.0) for n in range(200)))
    assert len(set(threads)) == 1  # quick calls: the first thread took them all
    assert threading.get_ident() not in threads  # never on the event loop
    assert [o.ok for o in outcomes].count(False) == 2 and "tab 3 fails" in outcomes[3].error
    assert "SystemExit: tab 5 leaves" in outcomes[5].error
    assert outcomes[7].output == [("info", "tab 7")]  # each call's printed lines are its own


async def test_slow_calls_spread_over_the_release_share_of_the_pool(executor_and_app) -> None:
    executor, app = executor_and_app
    threads: set[int] = set()

    def run() -> None:
        threads.add(threading.get_ident())
        time.sleep(0.05)  # waiting on I/O

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(executor.run_batched(app, "io", run, 5.0) for _ in range(16)))
    assert all(o.ok for o in outcomes)
    assert len(threads) > 1
    assert time.perf_counter() - started < 16 * 0.05  # not one after the other


async def test_a_hanging_call_times_out_alone_and_the_calls_behind_it_move_to_another_thread(
    executor_and_app,
) -> None:
    executor, app = executor_and_app
    release = threading.Event()

    def hang() -> None:
        release.wait(5)

    calls = [hang] + [lambda: None] * 20  # one tab's callback hangs, the others are quick
    batch = [executor.run_batched(app, "hang", call, 0.5) for call in calls]
    other = executor.run_batched(app, "other", lambda: None, 0.5)  # another event, another batch
    started = time.perf_counter()
    outcomes = await asyncio.gather(*batch, other)
    release.set()
    assert time.perf_counter() - started < 2.0
    assert outcomes[0].timed_out
    assert all(o.ok for o in outcomes[1:])


async def test_coroutine_functions_are_awaited_on_their_releases_own_loop(executor_and_app) -> None:
    executor, app = executor_and_app
    seen = []

    async def callback() -> None:
        seen.append((current_output.get() is not None, asyncio.get_running_loop()))

    outcome = await executor.run_batched(app, "async", callback, 1.0)
    assert outcome.ok and seen[0][0]
    assert seen[0][1] is not asyncio.get_running_loop()  # never the server's


async def test_an_async_handler_that_never_awaits_holds_neither_the_server_nor_other_apps() -> None:
    """On the server's loop, `time.sleep` (or a computation) in an async handler held every tab
    of the process, every tenant's. Now it holds its own release's loop, which is written off
    once it stays stuck past the limit: the release's next call gets a new loop."""
    executor = InProcessExecutor()
    stuck_app = executor.load(f"stuck-{uuid.uuid4().hex[:8]}", {"main.py": SOURCE})
    other_app = executor.load(f"other-{uuid.uuid4().hex[:8]}", {"main.py": SOURCE})
    release = threading.Event()
    loops: list[asyncio.AbstractEventLoop] = []

    async def blocks() -> None:
        release.wait(10)  # a blocking call that never awaits

    async def quick() -> str:
        loops.append(asyncio.get_running_loop())
        return "ok"

    try:
        stuck = asyncio.ensure_future(executor.run_callable(stuck_app, blocks, (), 0.3))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        for _ in range(5):
            await asyncio.sleep(0.01)  # the server's loop turns meanwhile
        assert time.monotonic() - started < 0.25
        assert (await executor.run_callable(other_app, quick, (), 1.0)).value == "ok"  # another app
        assert (await stuck).timed_out
        while executor._checks:  # the check of the stuck loop (about a second)
            await asyncio.sleep(0.05)
        again = await executor.run_callable(stuck_app, quick, (), 1.0)  # a new loop of its own
        assert again.ok and again.value == "ok" and loops[1] is not loops[0]
    finally:
        release.set()


async def test_a_release_keeps_its_loop_across_calls_so_a_module_client_works(executor_and_app) -> None:
    """An HTTP client made at module level is bound to the loop of its first call."""
    executor, app = executor_and_app
    loops = []

    async def handler() -> None:
        loops.append(asyncio.get_running_loop())

    for _ in range(3):
        assert (await executor.run_callable(app, handler, (), 1.0)).ok
    assert loops[0] is loops[1] is loops[2] and loops[0].is_running()
    executor.forget(app.key)  # an unloaded release's loop stops
    for _ in range(100):
        if loops[0].is_closed():
            break
        await asyncio.sleep(0.01)
    assert loops[0].is_closed()


async def test_an_app_raising_timeout_error_failed_it_did_not_time_out(executor_and_app) -> None:
    executor, app = executor_and_app

    def call_upstream() -> None:
        raise TimeoutError("the upstream service is slow")

    def leave() -> None:
        raise SystemExit(3)

    outcome = await executor.run_callable(app, call_upstream, (), 2.0)
    assert not outcome.ok and not outcome.timed_out and "upstream service is slow" in outcome.error
    outcome = await executor.run_callable(app, leave, (), 2.0)  # never ends the server
    assert not outcome.ok and "SystemExit" in outcome.error
    slow = await executor.run_callable(app, lambda: time.sleep(1), (), 0.2)
    assert slow.timed_out


@pytest.mark.parametrize(
    "raised",
    [SystemExit(3), KeyboardInterrupt(), GeneratorExit(), asyncio.CancelledError(), TimeoutError("upstream")],
    ids=lambda error: type(error).__name__,
)
async def test_whatever_an_async_handler_raises_is_its_failure_not_the_loops(
    executor_and_app, raised
) -> None:
    """asyncio re-raises a task's SystemExit out of the loop: every tab of the process would end."""
    executor, app = executor_and_app

    async def handler() -> None:
        await asyncio.sleep(0)
        raise raised

    outcome = await executor.run_callable(app, handler, (), 2.0)
    assert not outcome.ok and not outcome.timed_out and type(raised).__name__ in outcome.error
    assert (await executor.run_callable(app, asyncio.sleep, (0,), 1.0)).ok  # the loop goes on


async def test_an_async_handler_that_ignores_cancellation_still_times_out(executor_and_app) -> None:
    executor, app = executor_and_app
    stop = asyncio.Event()

    async def stubborn() -> None:
        while not stop.is_set():
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                pass

    started = time.monotonic()
    outcome = await executor.run_callable(app, stubborn, (), 0.2)
    assert outcome.timed_out and time.monotonic() - started < 1.5
    stop.set()


async def test_a_plain_function_returning_a_coroutine_has_it_awaited(executor_and_app) -> None:
    """A decorator that wraps an async handler in a plain function: its work still runs."""
    executor, app = executor_and_app
    seen = []

    async def work() -> str:
        seen.append("ran")
        return "done"

    def wrapper():  # what a decorator without async support leaves
        return work()

    outcome = await executor.run_callable(app, wrapper, (), 1.0)
    assert outcome.ok and outcome.value == "done" and seen == ["ran"]


async def test_a_generator_handler_fails_clearly_instead_of_doing_nothing(executor_and_app) -> None:
    executor, app = executor_and_app

    def generator():
        yield 1

    async def async_generator():  # not a coroutine function: it ran on a thread and answered nothing
        yield 1

    for function in (generator, async_generator):
        outcome = await executor.run_callable(app, function, (), 1.0)
        assert not outcome.ok and "generator" in outcome.error, function


async def test_waiting_for_a_busy_release_thread_counts_against_the_time_limit(executor_and_app) -> None:
    """A release whose threads are all stuck: its next event times out at its limit, with a toast,
    instead of waiting silently for a thread."""
    executor, app = executor_and_app
    release = threading.Event()
    stuck = [
        asyncio.ensure_future(executor.run_callable(app, release.wait, (5,), 0.2))
        for _ in range(executor_module.RELEASE_HANDLER_THREADS)
    ]
    await asyncio.sleep(0.05)
    started = time.monotonic()
    outcome = await executor.run_callable(app, lambda: "late", (), 0.3)
    assert outcome.timed_out and time.monotonic() - started < 1.0
    release.set()
    assert all(o.timed_out for o in await asyncio.gather(*stuck))
    assert (await executor.run_callable(app, lambda: "again", (), 1.0)).value == "again"


async def test_hung_handlers_of_many_releases_leave_other_apps_their_threads() -> None:
    """Each release may hold its share of threads; enough releases hanging used to fill the pool,
    and every other app's clicks timed out waiting for a thread."""
    executor = InProcessExecutor()
    release = threading.Event()
    hung_apps = [
        executor.load(f"hung-{uuid.uuid4().hex[:8]}", {"main.py": SOURCE})
        for _ in range(executor_module.HANDLER_POOL_THREADS // executor_module.RELEASE_HANDLER_THREADS + 1)
    ]
    hung = [
        asyncio.ensure_future(executor.run_callable(app, release.wait, (10,), 0.2))
        for app in hung_apps
        for _ in range(executor_module.RELEASE_HANDLER_THREADS)
    ]
    try:
        assert all(outcome.timed_out for outcome in await asyncio.gather(*hung))
        other = executor.load(f"other-{uuid.uuid4().hex[:8]}", {"main.py": SOURCE})
        outcomes = await asyncio.gather(
            *(executor.run_callable(other, lambda: "ok", (), 1.0) for _ in range(8))
        )
        assert [outcome.value for outcome in outcomes] == ["ok"] * 8
    finally:
        release.set()


async def test_a_failures_traceback_shows_the_apps_frames_not_the_platforms() -> None:
    """The app's log showed the executor's thread first; an SDK refusal, the SDK's insides."""
    source = SOURCE + (
        "from dashboards.sdk import notify\n\n\ndef helper():\n    raise KeyError('missing')\n\n\n"
        "def boom(state):\n    helper()\n\n\ndef refused(state):\n    notify(state, 'loud', 'x')\n"
    )
    executor = InProcessExecutor()
    app = executor.load(f"trace-{uuid.uuid4().hex[:8]}", {"main.py": source})
    outcome = await executor.run(app, "boom", {"state": SessionState({})}, 1.0)
    assert "executor.py" not in outcome.traceback
    assert "in boom" in outcome.traceback and "in helper" in outcome.traceback
    assert outcome.traceback.rstrip().endswith("KeyError: 'missing'")
    refused = await executor.run(app, "refused", {"state": SessionState({})}, 1.0)
    assert "in refused" in refused.traceback and "sdk.py" not in refused.traceback
    assert "level must be one of" in refused.traceback
