"""The one way tenant code runs: load a release, run a handler with a time limit.

``InProcessExecutor`` runs handlers in this process: async ones on an event loop of their
release's own (never the server's: see app_loops.py), plain ones on a bounded thread pool of
their own, each release limited to a share of it. The interface is
small on purpose, so that an executor running tenant code in isolated processes can replace it
without touching the consumer (see docs/runtime.md for what in-process execution does not
guarantee).
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import inspect
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dashboards.runtime import limits
from dashboards.runtime.app_loops import process_app_loops
from dashboards.runtime.applog import RunOutput, current_output, install_log_handler
from dashboards.runtime.handler_threads import HandlerThreads
from dashboards.runtime.limits import HANDLER_POOL_THREADS, LATE_HANDLER_THREADS_MAX, RELEASE_HANDLER_THREADS
from dashboards.runtime.loader import AppLoadError, LoadedApp, Problem, load_app, release_package, unload
from dashboards.runtime.loops import settle

logger = logging.getLogger(__name__)
BATCH_RATE_SAMPLE_SECONDS = 0.001
BATCH_SPREAD_AFTER_SECONDS = 0.005  # a batch that would take longer on one thread gets more


@dataclass
class HandlerOutcome:
    ok: bool
    timed_out: bool = False
    error: str = ""
    traceback: str = ""
    duration: float = 0.0
    output: list[tuple[str, str]] = field(default_factory=list)  # (level, line)
    value: Any = None  # what the function returned
    exception: BaseException | None = None


class Executor(Protocol):
    def load(self, key: str, files: dict[str, str]) -> LoadedApp: ...

    def loaded(self, key: str) -> LoadedApp | None:
        """The release if it is loaded already: a caller need not read its files then."""
        ...

    async def run(
        self, app: LoadedApp, handler: str, arguments: dict[str, Any], timeout: float
    ) -> HandlerOutcome: ...

    async def run_function(
        self,
        app: LoadedApp,
        reference: str,
        arguments: list[Any],
        timeout: float,
        keywords: dict[str, Any] | None = None,
    ) -> HandlerOutcome: ...

    async def run_callable(
        self, app: LoadedApp, function: Any, arguments: tuple[Any, ...], timeout: float
    ) -> HandlerOutcome: ...

    async def run_batched(
        self, app: LoadedApp, batch_key: Any, function: Any, timeout: float
    ) -> HandlerOutcome: ...

    def call(self, app: LoadedApp, reference: str, arguments: list[Any]) -> HandlerOutcome: ...

    def forget(self, key: str) -> None:
        """This process no longer needs the release: free what it holds."""
        ...


class _LimitReached(Exception):
    """A call still running at its time limit (not the app's own TimeoutError)."""


class _AppRaised(Exception):
    """What app code on the loop raised, carried out of its task (a BaseException included)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(repr(error))
        self.error = error


async def _contained(awaitable: Any) -> tuple[Any, BaseException | None]:
    """Run app code in a task that never raises on its own account: asyncio re-raises a task's
    SystemExit or KeyboardInterrupt out of the event loop (every tab of the process would end)."""
    try:
        return await awaitable, None
    except BaseException as error:
        current = asyncio.current_task()
        if isinstance(error, asyncio.CancelledError) and current is not None and current.cancelling():
            raise  # cancelled by the platform (its limit, its tab closed), not the app's own raise
        return None, error


def _name_of(function: Any) -> str:
    return getattr(function, "__name__", None) or type(function).__name__


class _BatchItem:
    __slots__ = ("context", "function", "future", "outcome", "output")

    def __init__(
        self, function: Any, context: contextvars.Context, future: asyncio.Future[HandlerOutcome]
    ) -> None:
        self.function = function
        self.context = context
        self.future = future
        self.output: list[tuple[str, str]] = RunOutput()
        self.outcome: HandlerOutcome | None = None


class _Batch:
    """Calls of one function family (one event's callback in many tabs), run by a few pool threads.

    Threads take the next call from a shared queue, so quick callbacks all run on the first
    thread (one hand-off for the whole batch) while slow or stuck ones spread over the release's
    share of the pool. Results go back to the loop a chunk at a time.
    """

    CHUNK_SECONDS = 0.002

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop = loop
        self.items: collections.deque[_BatchItem] = collections.deque()  # not taken by a thread yet
        self.every: list[_BatchItem] = []
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout

    def work(self) -> None:
        """In a pool thread: run calls until none is left; past the deadline, skip the rest."""
        done: list[_BatchItem] = []
        flushed_at = time.monotonic()
        while True:
            try:
                item = self.items.popleft()
            except IndexError:
                break
            started = time.perf_counter()
            if time.monotonic() > self.deadline:
                item.outcome = HandlerOutcome(ok=False, timed_out=True, error="handler timed out")
            else:
                item.context.run(current_output.set, item.output)
                try:
                    item.context.run(item.function)
                except BaseException as error:  # app code: even its SystemExit is only its failure
                    item.outcome = _failed(error, item.output, started)
                else:
                    item.outcome = HandlerOutcome(ok=True, output=item.output,
                                                  duration=time.perf_counter() - started)  # fmt: skip
            done.append(item)
            if time.monotonic() - flushed_at > self.CHUNK_SECONDS:
                self._hand_back(done)
                done, flushed_at = [], time.monotonic()
        if done:
            self._hand_back(done)

    def _hand_back(self, items: list[_BatchItem]) -> None:
        try:
            self.loop.call_soon_threadsafe(_resolve, items)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    def expire(self) -> None:
        """On the loop, at the deadline: whatever has not ended has timed out (as ``run`` does)."""
        for item in self.every:
            if not item.future.done():
                item.future.set_result(HandlerOutcome(ok=False, timed_out=True, error="handler timed out",
                                                      output=item.output, duration=self.timeout))  # fmt: skip


def _resolve(items: list[_BatchItem]) -> None:
    for item in items:
        if not item.future.done() and item.outcome is not None:
            item.future.set_result(item.outcome)


class _Import:
    """One release's import in progress: who waits for it sees its end, or gives up at the limit."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.done = threading.Event()
        self.loaded: LoadedApp | None = None
        self.error: AppLoadError | None = None


class InProcessExecutor:
    def __init__(self) -> None:
        self._pool = HandlerThreads(
            HANDLER_POOL_THREADS, late_max=LATE_HANDLER_THREADS_MAX, name="app-handler"
        )
        self._loaded: dict[str, LoadedApp] = {}
        self._load_lock = threading.Lock()  # guards the two dicts, never held while importing
        self._importing: dict[str, _Import] = {}
        self._slots: dict[tuple[int, str], asyncio.Semaphore] = {}
        self._open_batches: dict[tuple[int, str, Any], _Batch] = {}
        self._batch_tasks: set[asyncio.Task[None]] = set()  # the loop keeps weak references only
        self._app_loops = process_app_loops()
        self._checks: set[asyncio.Task[bool]] = set()  # of app loops whose call passed its limit
        install_log_handler()

    def load(self, key: str, files: dict[str, str]) -> LoadedApp:
        """Import a release once per process; raise AppLoadError if it is broken or hangs.

        The import runs on a thread of its own, one at a time per release, and its callers wait
        at most RELEASE_IMPORT_TIMEOUT_SECONDS from its start: one release's import that never
        ends costs that thread, never the callers' threads nor other releases' loads.
        """
        loaded = self._loaded.get(key)
        if loaded is not None:
            return loaded
        with self._load_lock:
            if key in self._loaded:
                return self._loaded[key]
            importing = self._importing.get(key)
            if importing is None:
                importing = self._importing[key] = _Import(time.monotonic())
                threading.Thread(
                    target=self._import, args=(key, files, importing), name=f"app-import-{key}", daemon=True
                ).start()
        limit = limits.RELEASE_IMPORT_TIMEOUT_SECONDS
        if not importing.done.wait(max(0.0, importing.started + limit - time.monotonic())):
            raise AppLoadError([Problem("timeout", f"its code did not finish importing within {limit:g} s")])
        if importing.error is not None:
            raise importing.error
        assert importing.loaded is not None
        return importing.loaded

    def _import(self, key: str, files: dict[str, str], importing: _Import) -> None:
        try:
            importing.loaded = load_app(key, files)
        except AppLoadError as error:
            importing.error = error
        except BaseException as error:  # load_app reports the app's own errors as AppLoadError
            importing.error = AppLoadError([Problem("crash", f"{type(error).__name__}: {error}")])
        with self._load_lock:
            if importing.loaded is not None:
                self._loaded[key] = importing.loaded
            self._importing.pop(key, None)  # a failed import is tried again by the next caller
        importing.done.set()

    def loaded(self, key: str) -> LoadedApp | None:
        return self._loaded.get(key)

    def loaded_keys(self) -> set[str]:
        return set(self._loaded)

    def forget(self, key: str) -> None:
        """Drop a loaded release, its modules and its share of the pool; a later ``load`` imports
        it again. A handler of it still running keeps what it references until it ends.

        Idle releases are forgotten (residency.py); tests forget theirs, as a rolled-back test's
        release ids are handed out again, to other code. Production never reuses an id.
        """
        with self._load_lock:
            if self._loaded.pop(key, None) is not None:
                unload(key)
            for slot_key in [k for k in list(self._slots) if k[1] == key]:  # the loop may add one
                self._slots.pop(slot_key, None)
        self._app_loops.forget(release_package(key))

    def _slot(self, key: str) -> asyncio.Semaphore:
        loop_key = (id(asyncio.get_running_loop()), key)
        if loop_key not in self._slots:
            self._slots[loop_key] = asyncio.Semaphore(RELEASE_HANDLER_THREADS)
        return self._slots[loop_key]

    async def run(
        self, app: LoadedApp, handler: str, arguments: dict[str, Any], timeout: float
    ) -> HandlerOutcome:
        return await self._run(app, app.handlers[handler], (), arguments, timeout,
                               is_async=app.signatures[handler].is_async)  # fmt: skip

    async def run_function(
        self,
        app: LoadedApp,
        reference: str,
        arguments: list[Any],
        timeout: float,
        keywords: dict[str, Any] | None = None,
    ) -> HandlerOutcome:
        """A function of the app named ``module:name`` (a job's status function)."""
        function = app.function(reference)
        return await self._run(app, function, tuple(arguments), dict(keywords or {}), timeout,
                               is_async=inspect.iscoroutinefunction(function))  # fmt: skip

    async def run_callable(
        self, app: LoadedApp, function: Any, arguments: tuple[Any, ...], timeout: float
    ) -> HandlerOutcome:
        """A function the app registered (an event callback), not necessarily named at module level."""
        return await self._run(app, function, tuple(arguments), {}, timeout,
                               is_async=inspect.iscoroutinefunction(function))  # fmt: skip

    async def _run(self, app: LoadedApp, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   timeout: float, *, is_async: bool) -> HandlerOutcome:  # fmt: skip
        output: list[tuple[str, str]] = RunOutput()
        started = time.perf_counter()
        context = contextvars.copy_context()
        context.run(current_output.set, output)
        try:
            if is_async:
                value = await self._on_loop(app, context, function(*args, **kwargs), timeout)
            else:
                returned: list[Any] = []
                error = await self._in_thread(
                    app, context, lambda: returned.append(function(*args, **kwargs)), timeout
                )
                if isinstance(error, _LimitReached):
                    raise TimeoutError
                if error is not None:
                    return _failed(error, output, started)
                value = returned[0]
                if inspect.isawaitable(value):  # a plain function wrapping an async one: await its work
                    left = timeout - (time.perf_counter() - started)
                    value = await self._on_loop(app, context, value, left)
                elif inspect.isgenerator(value) or inspect.isasyncgen(value):  # its body never ran: say so
                    raise TypeError(f"{_name_of(function)} is a generator function; a handler must be "
                                    "a plain or an async function")  # fmt: skip
        except TimeoutError:
            return HandlerOutcome(ok=False, timed_out=True, error="handler timed out", output=output,
                                  duration=time.perf_counter() - started)  # fmt: skip
        except _AppRaised as raised:
            return _failed(raised.error, output, started)
        except Exception as error:
            return _failed(error, output, started)
        return HandlerOutcome(ok=True, output=output, duration=time.perf_counter() - started, value=value)

    async def _on_loop(
        self, app: LoadedApp, context: contextvars.Context, awaitable: Any, timeout: float
    ) -> Any:
        """App code on its release's own event loop (app_loops.py), contained: whatever it raises
        (even SystemExit, or a CancelledError of its own) is its failure, never the loop's or the
        tab's; and at the limit the tab stops waiting, even for code that ignores being cancelled
        or never awaits (its loop is then written off if it stays stuck)."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[tuple[Any, BaseException | None]] = loop.create_future()

        def done(task: asyncio.Task[tuple[Any, BaseException | None]]) -> None:  # on the app loop
            outcome = (None, asyncio.CancelledError()) if task.cancelled() else task.result()
            try:
                loop.call_soon_threadsafe(settle, finished, outcome)
            except RuntimeError:  # the caller's loop is closed: nobody waits any more
                pass

        app_loop = self._app_loops.serving(app.package)
        call = app_loop.start(_contained(awaitable), context, done)
        try:
            ended, _ = await asyncio.wait({finished}, timeout=max(timeout, 0.0))
        except asyncio.CancelledError:  # the tab went away: so does its handler
            call.cancel()
            raise
        if not ended:
            call.cancel()
            check = loop.create_task(self._app_loops.check_stuck(app.package, app_loop))
            self._checks.add(check)  # the loop keeps weak references only
            check.add_done_callback(self._checks.discard)
            raise TimeoutError
        value, error = finished.result()
        if error is not None:
            raise _AppRaised(error)
        return value

    async def _in_thread(
        self, app: LoadedApp, context: contextvars.Context, call: Callable[[], Any], timeout: float
    ) -> BaseException | None:
        """Run ``call`` on the pool; what it raised, or None; ``_LimitReached`` past the limit.

        One future and one wake-up of the loop per call: ``run_in_executor`` with ``wait_for``
        and ``shield`` made three futures and a task of each click.
        """
        loop = asyncio.get_running_loop()
        slot = self._slot(app.key)
        if slot.locked():  # every thread of the release's share is busy: the wait counts as run time
            waited_from = loop.time()
            try:
                await asyncio.wait_for(slot.acquire(), timeout)
            except TimeoutError:
                return _LimitReached()
            timeout -= loop.time() - waited_from
        else:
            await slot.acquire()  # free: no wait, no yield
        finished: asyncio.Future[BaseException | None] = loop.create_future()

        written_off = False

        def end(error: BaseException | None) -> None:
            # The slot is given back when the thread really ends, not when we stop waiting:
            # a release whose handlers hang uses up its own share of the pool, nobody else's.
            slot.release()
            if written_off:
                self._pool.written_off_ended()
            if not finished.done():
                finished.set_result(error)

        def work() -> None:
            error: BaseException | None = None
            try:
                context.run(call)
            except BaseException as raised:  # app code: even its SystemExit is only its failure
                error = raised
            try:
                loop.call_soon_threadsafe(end, error)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass

        self._pool.start(work)

        def limit_reached() -> None:  # on the loop, as ``end`` is: no race between the two
            nonlocal written_off
            if not finished.done():
                finished.set_result(_LimitReached())
                written_off = self._pool.write_off()  # its thread may never come back: replaced

        timer = loop.call_later(timeout, limit_reached)
        try:
            return await finished
        finally:
            timer.cancel()

    async def run_batched(
        self, app: LoadedApp, batch_key: Any, function: Any, timeout: float
    ) -> HandlerOutcome:
        """Like ``run_callable`` for a function of no arguments, handed to the pool with the other
        calls of the same ``batch_key`` made in this turn of the loop.

        For one event reaching a thousand tabs: one hand-off to the pool instead of a thousand.
        The time limit runs from the batch's start; when a call hangs, the calls behind it move
        to another thread of the release's share.
        """
        if inspect.iscoroutinefunction(function):
            return await self.run_callable(app, function, (), timeout)
        loop = asyncio.get_running_loop()
        key = (id(loop), app.key, batch_key)
        batch = self._open_batches.get(key)
        if batch is None:
            batch = self._open_batches[key] = _Batch(loop, timeout)
            task = loop.create_task(self._start_batch(key, app, batch))  # after the tabs woken with us
            self._batch_tasks.add(task)
            task.add_done_callback(self._batch_tasks.discard)
        future: asyncio.Future[HandlerOutcome] = loop.create_future()
        item = _BatchItem(function, contextvars.copy_context(), future)
        batch.items.append(item)
        batch.every.append(item)
        return await future

    async def _start_batch(self, key: tuple[int, str, Any], app: LoadedApp, batch: _Batch) -> None:
        # Closed to new calls now: every tab that got the event this turn has queued its call.
        if self._open_batches.get(key) is batch:
            del self._open_batches[key]
        loop = asyncio.get_running_loop()
        expiry = loop.call_at(loop.time() + batch.deadline - time.monotonic(), batch.expire)
        slot = self._slot(app.key)
        threads: list[asyncio.Future[None]] = []
        wanted = True
        while batch.items and len(threads) < RELEASE_HANDLER_THREADS and time.monotonic() < batch.deadline:
            if wanted:
                await slot.acquire()
                thread = loop.run_in_executor(self._pool, batch.work)
                thread.add_done_callback(lambda _done: slot.release())
                threads.append(thread)
            waiting = len(batch.items)
            await asyncio.sleep(BATCH_RATE_SAMPLE_SECONDS)
            left = len(batch.items)
            taken = waiting - left
            # One more thread when the calls are slow (waiting on I/O) or one of them is stuck:
            # the queue would last long on the threads it has.
            wanted = left > 0 and (
                taken == 0 or left * BATCH_RATE_SAMPLE_SECONDS > taken * BATCH_SPREAD_AFTER_SECONDS
            )
        if threads:
            _, late = await asyncio.wait(threads, timeout=max(0.0, batch.deadline - time.monotonic()))
            for thread in late:  # stuck in a call past the batch's limit: replaced in the pool
                if self._pool.write_off():
                    thread.add_done_callback(lambda _done: self._pool.written_off_ended())
            if late:
                await asyncio.wait(late)
        expiry.cancel()

    def call(self, app: LoadedApp, reference: str, arguments: list[Any]) -> HandlerOutcome:
        """Run a job's function in this thread, to its end (a work horse: a process of its own).

        Its time limit is the caller's (RQ's job timeout raises inside it); the exception is
        returned, not raised, with the output the function printed or logged.
        """
        output: list[tuple[str, str]] = RunOutput()
        started = time.perf_counter()
        token = current_output.set(output)
        try:
            value = app.function(reference)(*arguments)
            if asyncio.iscoroutine(value):
                value = asyncio.run(value)
        except (Exception, SystemExit, GeneratorExit, asyncio.CancelledError) as error:
            # sys.exit() in a job is its failure, with its traceback, not a dead work horse.
            # KeyboardInterrupt is the worker being stopped: it goes on to RQ.
            return _failed(error, output, started)
        finally:
            current_output.reset(token)
        return HandlerOutcome(ok=True, output=output, duration=time.perf_counter() - started, value=value)


def _failed(error: BaseException, output: list[tuple[str, str]], started: float) -> HandlerOutcome:
    return HandlerOutcome(
        ok=False,
        error=f"{type(error).__name__}: {error}",
        traceback=app_traceback(error),
        output=output,
        duration=time.perf_counter() - started,
        exception=error,
    )


def app_traceback(error: BaseException) -> str:
    """The traceback as the app's developers read it in its log: the frames of their own code, not
    the platform's around it (the executor's thread, the SDK function that refused an argument).
    All of it when none is theirs (an error of the platform's, or of a library at import)."""
    shown = traceback.TracebackException.from_exception(error)
    _keep_app_frames(shown, set())
    return "".join(shown.format())


def _keep_app_frames(shown: traceback.TracebackException, seen: set[int]) -> None:
    if id(shown) in seen:
        return
    seen.add(id(shown))
    frames = [frame for frame in shown.stack if frame.filename.startswith("<app ")]
    if frames:
        shown.stack = traceback.StackSummary.from_list(frames)
    for chained in (shown.__cause__, shown.__context__):
        if chained is not None:
            _keep_app_frames(chained, seen)


_default: InProcessExecutor | None = None


def get_executor() -> Executor:
    global _default  # noqa: PLW0603 - one executor per process
    if _default is None:
        _default = InProcessExecutor()
    return _default


def load_release(release_id: int, read_files: Callable[[], dict[str, str]]) -> LoadedApp:
    """A release's code, loaded once per process; its files are read only when it is not loaded yet.

    A worker loads a task's release before it forks, so its work horses seldom read them.
    """
    executor = get_executor()
    return executor.loaded(str(release_id)) or executor.load(str(release_id), read_files())


__all__ = ["AppLoadError", "Executor", "HandlerOutcome", "InProcessExecutor", "get_executor", "load_release"]
