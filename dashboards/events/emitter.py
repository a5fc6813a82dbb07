"""``EventEmitter``: an app's own named events, handed to its subscribers (Pyventus' emitter).

App code subscribes callbacks to event names and emits events with arguments; a *processing
service*, chosen per emitter, decides where the subscribers run:

- ``"asyncio"``: on the event loop running the caller (an async handler's), else on a private
  loop thread of this process. Async subscribers run on that loop; plain ones on the emitters'
  thread pool, never on the loop, so tenant code cannot stall a server loop shared by every tab.
- ``"threads"``: every subscriber on the emitters' bounded thread pool (async ones on a loop of
  their own in their thread).
- ``"rq"``: one task per emission on RQ's ``events`` queue; a jobs worker runs the subscribers
  with the release's code loaded. The emission names its subscribers (``module:name``), so they
  must be module-level functions of the app, and arguments cross as JSON.

Guarantees, whatever the service: subscribers of one emission run concurrently, each under a
time limit, so one that raises or hangs never delays or stops the others; it is reported in the
app's log and its ``on_failure`` runs (with a ``TimeoutError`` for a hang). Work a subscriber
asks for through the SDK (``notify_team``...) happens once it succeeded. ``emit`` returns at once
(an ``Emission`` to wait for), except in a job, whose process may end first: there it waits.

No Django import at module level: app code imports the SDK in a bare validation process.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import inspect
import logging
import os
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Generator
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Any

from dashboards.events.limits import SUBSCRIBER_TIME_LIMIT_SECONDS
from dashboards.runtime.app_loops import AppLoop, process_app_loops
from dashboards.runtime.applog import RunOutput, current_output, kept_lines
from dashboards.runtime.codecs import JsonRefused, bounded_json_copy
from dashboards.runtime.context import AppContext, current_app_context

logger = logging.getLogger(__name__)
EMISSION_TASK_NAME = "dashboards-emission"  # the test client waits for these, and only these

SERVICES = ("asyncio", "threads", "rq")
EMITTER_POOL_THREADS = 32  # subscribers of every emitter of this process, plain ones and "threads"
RELEASE_EMITTER_THREADS = 8  # of which one release may hold at most this many (hung ones count)
MAX_TIME_LIMIT_SECONDS = 600.0
EMISSION_MAX_BYTES = 64 * 1024  # an rq emission's arguments, as JSON
MAX_EMIT_DEPTH = 5  # subscribers emitting events whose subscribers emit...: refused past this
# Time limits an emission on a release's loop is watched for: a run takes at most two (above),
# and a third is for its log line. Past them it is over, whether or not its loop was written off.
WATCHED_LIMITS = 3
EVENT_NAME_MAX_CHARS = 200
RQ_TASK = "dashboards.events.tasks.run_emitter_subscribers"
RQ_FAILURE_TTL_SECONDS = 3600

Callback = Callable[..., Any]
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("emitter_depth", default=0)


class EmitterError(ValueError):
    """Bad input to an emitter (unknown service, bad name, arguments an rq emission cannot carry)."""


@dataclass(eq=False)
class Subscription:
    """One callback subscribed to one event name (or ``...``: every event of the emitter)."""

    emitter: EventEmitter
    event: str | EllipsisType
    callback: Callback
    once: bool = False
    on_success: Callback | None = None
    on_failure: Callback | None = None

    @property
    def name(self) -> str:
        return _callable_name(self.callback)

    @property
    def active(self) -> bool:
        return self.emitter.has(self)

    def unsubscribe(self) -> bool:
        """Stop receiving events; False if it was no longer subscribed (a once already run)."""
        return self.emitter.unsubscribe(self) > 0


@dataclass(frozen=True)
class SubscriberRun:
    """How one subscriber ended for one emission (``Emission.runs``)."""

    subscriber: str
    ok: bool
    duration: float
    result: Any = None
    error: str = ""
    timed_out: bool = False


class Emission:
    """What ``emit`` returns: wait for it (``wait()``, or ``await`` it) to see how each subscriber ended.

    For the rq service it is done as soon as the task is handed to RQ (or deferred until the
    handler succeeded): what happens on the worker shows in the app's log.
    """

    def __init__(self, emitter: EventEmitter, event: str, service: str) -> None:
        self.emitter = emitter
        self.event = event
        self.service = service
        self.runs: list[SubscriberRun] = []
        self.sent = False  # rq: handed to RQ, or deferred until the handler succeeded
        self._finished = threading.Event()
        self._task: asyncio.Future[Any] | None = None  # delivering on the caller's loop
        self._future: Future[Any] | None = None  # delivering on the private loop thread
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop delivering it

    def __repr__(self) -> str:
        state = "done" if self.done() else "running"
        return f"<Emission {self.emitter.label}:{self.event} via {self.service}, {state}>"

    def done(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every subscriber (and its on_success/on_failure) ended; False at the timeout."""
        if not self.done() and self._loop is not None and _running_loop() is self._loop:
            raise RuntimeError("this emission runs on the current event loop: `await` it instead of wait()")
        return self._finished.wait(timeout)

    def __await__(self) -> Generator[Any, None, list[SubscriberRun]]:
        return self._wait_async().__await__()

    async def _wait_async(self) -> list[SubscriberRun]:
        if self._task is not None and self._task.get_loop() is asyncio.get_running_loop():
            await asyncio.shield(self._task)
        elif self._future is not None:
            await asyncio.shield(asyncio.wrap_future(self._future))
        elif self._task is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._finished.wait)
        return self.runs

    def _finish(self, runs: list[SubscriberRun]) -> None:
        self.runs = runs
        self._finished.set()
        self.emitter._forget(self)


@dataclass(frozen=True)
class Target:
    """A subscriber as delivery sees it: the callbacks, resolved (in this process or on a worker)."""

    callback: Callback
    on_success: Callback | None = None
    on_failure: Callback | None = None

    @property
    def name(self) -> str:
        return _callable_name(self.callback)


@dataclass
class Delivery:
    """One emission to deliver: who, with what, under which limits, for which app."""

    label: str
    event: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    targets: list[Target]
    time_limit: float
    debug: bool
    context: AppContext | None
    depth: int
    async_on_loop: bool = True  # False ("threads"): async subscribers too run on pool threads
    # The caller's context variables, which every subscriber run starts from.
    caller: contextvars.Context = field(default_factory=contextvars.copy_context)
    lines: list[tuple[str, str]] = field(default_factory=list)


class EventEmitter:
    """Emits an app's own events to the callbacks subscribed to them.

    ``name`` labels the emitter in the app's log (required by the rq service). ``service`` is
    where subscribers run: ``"asyncio"``, ``"threads"`` or ``"rq"``. ``debug`` logs every
    emission and every subscriber run with its duration. ``time_limit`` (seconds) bounds each
    subscriber run, and each on_success/on_failure run.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        service: str = "asyncio",
        debug: bool = False,
        time_limit: float = SUBSCRIBER_TIME_LIMIT_SECONDS,
    ) -> None:
        if service not in SERVICES:
            raise EmitterError(
                f"unknown processing service {service!r}: use one of {', '.join(map(repr, SERVICES))}"
            )
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise EmitterError("an emitter's name is a non-empty string")
        if service == "rq" and name is None:
            raise EmitterError("an rq emitter needs a name (it labels the worker's lines in the app's log)")
        if isinstance(time_limit, bool) or not isinstance(time_limit, int | float):
            raise EmitterError("time_limit is a number of seconds")
        if not 0 < time_limit <= MAX_TIME_LIMIT_SECONDS:
            raise EmitterError(f"time_limit must be more than 0 and at most {MAX_TIME_LIMIT_SECONDS:g} s")
        self.name = name
        self.service = service
        self.debug = bool(debug)
        self.time_limit = float(time_limit)
        self._subscriptions: list[Subscription] = []
        self._pending: set[Emission] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<EventEmitter {self.label} via {self.service}>"

    @property
    def label(self) -> str:
        return self.name or f"emitter-{id(self):x}"

    # -- subscribing ---------------------------------------------------------------------------

    def subscribe(
        self,
        event: str | EllipsisType,
        callback: Callback | None = None,
        *,
        once: bool = False,
        on_success: Callback | None = None,
        on_failure: Callback | None = None,
    ) -> Any:
        """Run ``callback(*args, **kwargs)`` at every ``emit(event, *args, **kwargs)``.

        ``event`` is a name, or ``...`` for every event of this emitter. ``once``: removed as
        soon as an emission picks it. ``on_success(result)`` runs after it returned,
        ``on_failure(exception)`` after it raised or passed the time limit. Without
        ``callback``, a decorator that subscribes the function and returns it unchanged.
        Returns the ``Subscription`` (which can ``unsubscribe()``).
        """
        _check_event(event, allow_all=True)
        if callback is None:

            def decorator(function: Callback) -> Callback:
                self.subscribe(event, function, once=once, on_success=on_success, on_failure=on_failure)
                return function

            return decorator
        for what, function in (
            ("callback", callback),
            ("on_success", on_success),
            ("on_failure", on_failure),
        ):
            if function is None:
                continue
            if not callable(function):
                raise TypeError(f"{what} must be a function, not {type(function).__name__}")
            if self.service == "rq":
                _check_module_level(what, function)
        from dashboards.runtime.loader import hide_from_browser  # noqa: PLC0415

        for function in (callback, on_success, on_failure):  # run by emissions only, never a click
            if function is not None:
                hide_from_browser(function)
        subscription = Subscription(self, event, callback, bool(once), on_success, on_failure)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(
        self, subscriber: Subscription | Callback, event: str | EllipsisType | None = None
    ) -> int:
        """Remove a subscription, or every subscription of a callback (to ``event`` only, if given).

        Returns how many were removed.
        """
        with self._lock:
            keep = []
            for subscription in self._subscriptions:
                if isinstance(subscriber, Subscription):
                    match = subscription is subscriber
                else:
                    match = subscription.callback == subscriber and (
                        event is None or subscription.event == event
                    )
                if not match:
                    keep.append(subscription)
            removed = len(self._subscriptions) - len(keep)
            self._subscriptions = keep
        return removed

    def unsubscribe_all(self, event: str | EllipsisType | None = None) -> int:
        """Remove every subscription (to ``event`` only, if given); returns how many."""
        with self._lock:
            before = len(self._subscriptions)
            self._subscriptions = [s for s in self._subscriptions if event is not None and s.event != event]
            return before - len(self._subscriptions)

    def subscriptions(self, event: str | None = None) -> list[Subscription]:
        """The current subscriptions (those an emission of ``event`` would reach, if given)."""
        with self._lock:
            return [s for s in self._subscriptions if event is None or s.event in (event, ...)]

    def has(self, subscription: Subscription) -> bool:
        with self._lock:
            return any(s is subscription for s in self._subscriptions)

    # -- emitting ------------------------------------------------------------------------------

    def emit(self, event: str, /, *args: Any, **kwargs: Any) -> Emission:
        """Hand ``event`` with its arguments to every subscriber of it, through this emitter's service.

        Returns at once, with an ``Emission`` to wait for; in a job it waits for the subscribers
        itself (the job's process may end before them).
        """
        _check_event(event, allow_all=False)
        depth = _depth.get()
        if depth >= MAX_EMIT_DEPTH:
            raise EmitterError(
                f"{self.label}: {event!r} emitted {depth} subscribers deep; refused (a subscriber loop?)"
            )
        context = current_app_context.get()
        emission = Emission(self, event, self.service)
        if self.service == "rq":
            return self._emit_rq(emission, args, kwargs, context, depth)
        subscriptions = self._take(event)
        delivery = Delivery(
            label=self.label,
            event=event,
            args=args,
            kwargs=kwargs,
            targets=[Target(s.callback, s.on_success, s.on_failure) for s in subscriptions],
            time_limit=self.time_limit,
            debug=self.debug,
            context=context,
            depth=depth,
            async_on_loop=self.service == "asyncio",
        )
        self._start(emission, delivery, on_caller_loop=self.service == "asyncio")
        if (
            context is not None
            and _running_loop() is None
            and (_process_may_end(context) or context.tenant_id == 0)
        ):
            # A job's process may end right after it: deliver first. In the app authors' test
            # client (tenant 0) too, so that what the subscribers did is there when click() returns.
            emission.wait()
        return emission

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every emission of this emitter in this process has ended; False at the timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = next(iter(self._pending), None)
            if pending is None:
                return True
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not pending.wait(left):
                return False

    def _take(self, event: str) -> list[Subscription]:
        """The subscriptions this emission reaches; once-subscriptions leave the list here."""
        with self._lock:
            picked = [s for s in self._subscriptions if s.event in (event, ...)]
            self._subscriptions = [s for s in self._subscriptions if not (s.once and s in picked)]
        return picked

    def _forget(self, emission: Emission) -> None:
        with self._lock:
            self._pending.discard(emission)

    def _start(self, emission: Emission, delivery: Delivery, *, on_caller_loop: bool) -> None:
        with self._lock:
            self._pending.add(emission)
        loop = _running_loop() if on_caller_loop else None
        if loop is not None:
            task = loop.create_task(deliver(delivery), name=EMISSION_TASK_NAME)
            emission._task, emission._loop = task, loop
            task.add_done_callback(lambda done: emission._finish(_runs_of(done)))
        else:  # the release's loop, or (outside the platform's app code) the private one
            app_loop = _release_loop(delivery.context)
            if app_loop is not None:
                emission._loop, future = app_loop.loop, app_loop.submit(deliver(delivery))
                _watch_release_loop(app_loop, delivery, future)
            else:
                emission._loop = _background_loop()
                future = asyncio.run_coroutine_threadsafe(deliver(delivery), emission._loop)
            emission._future = future
            future.add_done_callback(lambda done: emission._finish(_runs_of(done)))

    def _emit_rq(
        self,
        emission: Emission,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        context: AppContext | None,
        depth: int,
    ) -> Emission:
        if context is None:
            raise EmitterError(
                f"{self.label}: the rq service runs subscribers on a worker with this app's release: "
                "emit from the app's code (a handler, a job, a subscriber)"
            )
        # Every check before any once-subscription is used up.
        payload = _json_arguments(args, kwargs)
        if context.tenant_id:
            for subscription in self.subscriptions(emission.event):
                _references(context.package, subscription)
        subscriptions = self._take(emission.event)
        if context.tenant_id == 0:  # the app authors' test client: no platform behind it, run in place
            delivery = Delivery(
                label=self.label, event=emission.event, args=tuple(payload["args"]), kwargs=payload["kwargs"],
                targets=[Target(s.callback, s.on_success, s.on_failure) for s in subscriptions],
                time_limit=self.time_limit, debug=self.debug, context=context, depth=depth,
            )  # fmt: skip
            self._start(emission, delivery, on_caller_loop=False)
            emission.sent = True
            emission.wait()
            return emission
        message = {
            **payload,
            "emitter": self.label,
            "event": emission.event,
            "subscribers": [_references(context.package, s) for s in subscriptions],
            "time_limit": self.time_limit,
            "debug": self.debug,
            "depth": depth,
            "user_id": context.user_id,
            "session_id": context.session_id,
        }
        if self.debug:  # with the caller's own output: its handler's or job's lines in the app's log
            line = ("debug", f"emitter {self.label}: {emission.event!r} sent to a worker "
                             f"for {len(subscriptions)} subscriber(s)")  # fmt: skip
            sink = current_output.get()
            if sink is not None:
                sink.append(line)
            else:
                logger.debug("%s", line[1])
        if subscriptions:
            release_id = context.release_id
            tenant_id = context.tenant_id
            if _process_may_end(context):
                enqueue_emission(message, release_id, tenant_id)
            else:  # from a handler: sent once it succeeded, like its jobs; nothing if it fails
                context.deferred.append(
                    lambda: _on_commit(lambda: enqueue_emission(message, release_id, tenant_id))
                )
        emission.sent = True
        emission._finish([])
        return emission


# -- delivery: the same for every service, in this process or on a worker ------------------------


async def deliver(delivery: Delivery) -> list[SubscriberRun]:
    """Run every target concurrently, each with its time limit; write the lines to the app's log."""
    if delivery.debug:
        delivery.lines.append(("debug", f"emitter {delivery.label}: emit {delivery.event!r} to "
                                        f"{len(delivery.targets)} subscriber(s)"))  # fmt: skip
    try:
        runs = list(await asyncio.gather(*(_deliver_one(delivery, target) for target in delivery.targets)))
    finally:
        if delivery.lines:
            await _to_thread(_log, delivery.context, delivery.lines)
    return runs


def deliver_now(delivery: Delivery) -> list[SubscriberRun]:
    """``deliver`` to its end in this thread (one with no running loop: an RQ work horse)."""
    return asyncio.run(deliver(delivery))


async def _deliver_one(delivery: Delivery, target: Target) -> SubscriberRun:
    label = f"emitter {delivery.label}: {target.name} on {delivery.event!r}"
    context = _subscriber_context(delivery.context)
    started = time.perf_counter()
    failure: BaseException | None = None
    result: Any = None
    try:
        result = await _call(delivery, target.callback, delivery.args, delivery.kwargs, context)
        if context is not None and context.deferred:
            await _to_thread(_run_deferred, context.deferred, not context.recorded)
    except TimeoutError:
        failure = TimeoutError(f"{target.name} did not finish within {delivery.time_limit:g} s")
        delivery.lines.append(("error", f"{label}: still running after {delivery.time_limit:g} s; "
                                        "stopped waiting for it"))  # fmt: skip
    except Exception as error:
        failure = error
        delivery.lines.append(("error", f"{label} failed:\n{_format(error)}"))
    duration = time.perf_counter() - started
    if delivery.debug:
        outcome = "ok" if failure is None else f"failed ({type(failure).__name__})"
        delivery.lines.append(("debug", f"{label}: {outcome} in {duration * 1000:.1f} ms"))
    follow_up = target.on_success if failure is None else target.on_failure
    if follow_up is not None:
        what = "on_success" if failure is None else "on_failure"
        try:
            await _call(delivery, follow_up, (result if failure is None else failure,), {},
                        _subscriber_context(delivery.context))  # fmt: skip
        except TimeoutError:
            delivery.lines.append(("error", f"{label}: {what} still running after {delivery.time_limit:g} s"))
        except Exception as error:
            delivery.lines.append(("error", f"{label}: {what} failed:\n{_format(error)}"))
    return SubscriberRun(
        subscriber=target.name,
        ok=failure is None,
        duration=duration,
        result=result,
        error="" if failure is None else f"{type(failure).__name__}: {failure}",
        timed_out=isinstance(failure, TimeoutError),
    )


async def _call(
    delivery: Delivery, function: Callback, args: tuple[Any, ...], kwargs: dict[str, Any],
    app_context: AppContext | None,
) -> Any:  # fmt: skip
    """One call of app code under the time limit, with its own output, app context and depth."""
    output: list[tuple[str, str]] = RunOutput()
    context = delivery.caller.copy()
    context.run(current_output.set, output)
    context.run(current_app_context.set, app_context)
    context.run(_depth.set, delivery.depth + 1)
    loop = asyncio.get_running_loop()
    if delivery.async_on_loop and inspect.iscoroutinefunction(function):
        task = loop.create_task(function(*args, **kwargs), context=context)
    else:
        slot = _slot(loop, app_context.package if app_context else "")
        call = functools.partial(function, *args, **kwargs)
        task = loop.create_task(_on_pool(slot, context, call, time_limit=delivery.time_limit))
    try:
        # Not wait_for: it waits for the cancelled task to end, and app code may refuse to.
        done, _ = await asyncio.wait({task}, timeout=delivery.time_limit)
        if not done:
            task.cancel()
            raise TimeoutError
        return task.result()
    finally:
        delivery.lines.extend(kept_lines(output))


async def _on_pool(
    slot: asyncio.Semaphore, context: contextvars.Context, call: Callable[[], Any], *, time_limit: float
) -> Any:
    def run() -> Any:
        try:
            value = call()
            if inspect.isawaitable(value):  # an async subscriber of a "threads" emitter: a loop of its own
                value = asyncio.run(asyncio.wait_for(_awaited(value), time_limit))
            return value
        finally:
            _close_connections()

    loop = asyncio.get_running_loop()
    await slot.acquire()
    future = loop.run_in_executor(_pool(), context.run, run)
    # The slot is given back when the thread really ends: a release whose subscribers hang uses
    # up its own share of the pool, nobody else's.
    future.add_done_callback(lambda _done: slot.release())
    return await asyncio.shield(future)


async def _awaited(value: Any) -> Any:
    return await value


def _subscriber_context(parent: AppContext | None) -> AppContext | None:
    """The caller's app context, with deferred work of its own (run once the subscriber succeeded)."""
    if parent is None:
        return None
    return dataclasses.replace(parent, deferred=[], job_sink=_no_long_callbacks)


def _no_long_callbacks(spec: Any) -> None:
    raise RuntimeError(
        "invoke_long_callback is called from a handler of a tab, not from an emitter subscriber"
    )


def _process_may_end(context: AppContext) -> bool:
    """A job's work horse, or code the platform runs outside a handler: nothing waits for later."""
    return context.job_id is not None or context.immediate or context.process_ends


# -- the process's private loop and pool (rebuilt after a fork: an RQ work horse) ----------------

_shared_lock = threading.Lock()
_shared: dict[str, Any] = {"pid": None, "loop": None, "pool": None}
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def _shared_for_this_process() -> dict[str, Any]:
    with _shared_lock:
        if _shared["pid"] != os.getpid():
            _shared.update(pid=os.getpid(), loop=None, pool=None)
        return _shared


def _release_loop(context: AppContext | None) -> AppLoop | None:
    """The loop of the emitting release (runtime/app_loops.py): an async subscriber that blocks
    holds up its own app's deliveries, not every tenant's. None outside the platform's processes'
    app code (the app authors' test client, tenant 0, has one app: the private loop)."""
    if context is None or not context.tenant_id or not context.package:
        return None
    return process_app_loops().serving(context.package)


def _watch_release_loop(app_loop: AppLoop, delivery: Delivery, future: Future[Any]) -> None:
    """An async subscriber that blocks its release's loop (``time.sleep`` in an ``async def``) also
    stops that loop's own time limits from firing: past the limit, the loop is looked at from
    outside, as after a handler's, and written off when stuck (the release's next async calls run
    on a new loop). The emission then ends with its subscribers timed out, and the app's log says so.
    A run lasts at most twice the limit (a subscriber, then its on_success or on_failure)."""
    assert delivery.context is not None  # a release's loop serves a release's code
    package, limit = delivery.context.package, delivery.time_limit

    async def watch() -> None:
        for _ in range(WATCHED_LIMITS):
            await asyncio.sleep(limit)
            if future.done():
                return
            if await process_app_loops().check_stuck(package, app_loop):
                break
        if future.done():
            return
        line = (f"emitter {delivery.label}: {delivery.event!r}: a subscriber kept the app's event loop "
                f"busy past {limit:g} s without awaiting; its runs count as timed out, and the app's "
                "next async calls run on a new loop")  # fmt: skip
        await _to_thread(_log, delivery.context, [("error", line)])
        error = f"TimeoutError: still running after {limit:g} s"
        runs = [
            SubscriberRun(subscriber=target.name, ok=False, duration=limit, timed_out=True, error=error)
            for target in delivery.targets
        ]
        try:
            future.set_result(runs)  # the emission's waiters are answered: they waited on a stuck loop
        except InvalidStateError:
            pass  # it ended meanwhile

    asyncio.run_coroutine_threadsafe(watch(), _background_loop())


def _background_loop() -> asyncio.AbstractEventLoop:
    shared = _shared_for_this_process()
    with _shared_lock:
        if shared["loop"] is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="emitter-loop", daemon=True).start()
            shared["loop"] = loop
        return shared["loop"]


def _pool() -> ThreadPoolExecutor:
    shared = _shared_for_this_process()
    with _shared_lock:
        if shared["pool"] is None:
            shared["pool"] = ThreadPoolExecutor(EMITTER_POOL_THREADS, thread_name_prefix="emitter")
        return shared["pool"]


def _slot(loop: asyncio.AbstractEventLoop, package: str) -> asyncio.Semaphore:
    """A release's share of the pool, counted per loop (asyncio semaphores belong to one loop)."""
    with _shared_lock:  # the caller's loop and the private one may ask at the same time
        per_release = _slots.setdefault(loop, {})
        if package not in per_release:
            per_release[package] = asyncio.Semaphore(RELEASE_EMITTER_THREADS)
        return per_release[package]


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _to_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Blocking work (the database) off the loop, on the pool, its connections closed after."""

    def run() -> Any:
        try:
            return function(*args)
        finally:
            _close_connections()

    return await asyncio.get_running_loop().run_in_executor(_pool(), run)


# -- the app's log, the database, RQ: imported when used, never at import time -------------------


def _log(context: AppContext | None, lines: list[tuple[str, str]]) -> None:
    """Lines to the app's log when the platform runs the app's code; else to this module's logger."""
    if context is not None and context.tenant_id:
        from dashboards.hosting.services import app_log_append  # noqa: PLC0415 - see the module's docstring

        try:
            app_log_append(app_id=context.app_id, tenant_id=context.tenant_id,
                           release_id=context.release_id or None, lines=lines)  # fmt: skip
            return
        except Exception:
            logger.exception("emitter lines not written to app %s's log", context.app_id)
    for level, line in lines:
        logger.log(logging.getLevelName(level.upper()), "%s", line)


def _run_deferred(deferred: list[Callable[[], Any]], database: bool) -> None:
    from dashboards.runtime.context import run_deferred  # noqa: PLC0415 - imports Django when called

    run_deferred(deferred, database=database)


def _on_commit(send: Callable[[], None]) -> None:
    from django.db import transaction  # noqa: PLC0415

    transaction.on_commit(send, robust=True)


def _close_connections() -> None:
    if "django.db" not in sys.modules:
        return  # no Django here (validation): nothing was opened
    from django.conf import settings  # noqa: PLC0415

    if not settings.configured:
        return  # imported, not set up (an app's own tests with the test client): nothing was opened
    from dashboards.runtime.db import close_idle_connections  # noqa: PLC0415 - imports Django

    close_idle_connections()


def enqueue_emission(message: dict[str, Any], release_id: int, tenant_id: int) -> None:
    """One RQ task, within the tenant's share of the events queue; ``release_id`` second, so the
    worker loads the release before it forks."""
    from dashboards.events.fair_share import event_task_submit  # noqa: PLC0415

    event_task_submit(
        tenant_id=tenant_id, func=RQ_TASK, args=[message, int(release_id)],
        timeout_seconds=int(2 * float(message["time_limit"])) + 30, failure_ttl=RQ_FAILURE_TTL_SECONDS,
        description=f"emitter {message['emitter']}: {message['event']}",
    )  # fmt: skip


# -- checks ----------------------------------------------------------------------------------------


def _check_event(event: Any, *, allow_all: bool) -> None:
    if event is ... and allow_all:
        return
    if not isinstance(event, str) or not event.strip() or len(event) > EVENT_NAME_MAX_CHARS:
        every = " (or ... for every event)" if allow_all else ""
        raise EmitterError(f"an event name is a non-empty string of at most {EVENT_NAME_MAX_CHARS} "
                           f"characters{every}, not {event!r}")  # fmt: skip


def _check_module_level(what: str, function: Any) -> None:
    name = str(getattr(function, "__qualname__", ""))
    if not inspect.isfunction(function) or "." in name or "<" in name:
        raise EmitterError(
            f"{what} {_callable_name(function)} of an rq emitter must be a function defined at the top "
            "level of a module of the app: the worker finds it by name"
        )


def _references(package: str, subscription: Subscription) -> dict[str, str | None]:
    from dashboards.runtime.loader import function_reference  # noqa: PLC0415 - the loader imports the SDK

    def reference(function: Callback | None) -> str | None:
        if function is None:
            return None
        try:
            return function_reference(package, function)
        except TypeError as error:
            raise EmitterError(f"an rq emitter's subscribers must be functions of the app: {error}") from None

    return {
        "callback": reference(subscription.callback),
        "on_success": reference(subscription.on_success),
        "on_failure": reference(subscription.on_failure),
    }


def _json_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    arguments = {"args": list(args), "kwargs": kwargs}
    try:
        return bounded_json_copy(arguments, limit=EMISSION_MAX_BYTES, what="arguments of an rq emission")
    except JsonRefused as error:
        raise EmitterError(str(error)) from None


def _callable_name(function: Any) -> str:
    return str(
        getattr(function, "__qualname__", None) or getattr(function, "__name__", None) or repr(function)
    )


def _format(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)).rstrip()


def _runs_of(done: Any) -> list[SubscriberRun]:
    if done.cancelled():
        return []
    if done.exception() is not None:
        logger.error("emitter delivery failed", exc_info=done.exception())
        return []
    return list(done.result())


__all__ = ["Emission", "EmitterError", "EventEmitter", "SubscriberRun", "Subscription"]
