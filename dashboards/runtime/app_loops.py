"""The event loops that run tenants' async code: one per release, on a thread of its own.

On the server's loop, an ``async def`` handler that computed without awaiting (or called
``time.sleep``, ``requests.get``...) held every tab of the process, every tenant's, until it
returned. Here it holds its own release's loop only. At its time limit the tab stops waiting
and the call is cancelled; a loop that then does not take a turn within
``APP_LOOP_STUCK_SECONDS`` is *written off*: a new loop on a new thread takes the release's
next calls, and the stuck one stops once its code returns and its calls have ended. At most
``STUCK_APP_LOOPS_PER_RELEASE`` loops of a release are written off at once; past that its calls
wait for the stuck loop (they time out, for this release's tabs only), and the log says so.

One loop per release, not per call, so what a module keeps across calls (an HTTP client and its
connections, bound to the loop that made them) goes on working, and tabs of one release awaiting
I/O share a thread. The loops are the process's (``process_app_loops``): an app's emitter
delivers its async subscribers on its release's loop too, never on a loop all tenants share.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from dashboards.runtime.loops import settle

logger = logging.getLogger(__name__)
APP_LOOP_STUCK_SECONDS = 1.0
STUCK_APP_LOOPS_PER_RELEASE = 4
APP_LOOP_CLOSE_SECONDS = 5.0  # a stopped loop's leftover tasks get this long to end once cancelled


class AppCall:
    """One coroutine started on an app loop; ``cancel`` may be called from any thread."""

    __slots__ = ("_app_loop", "_task")

    def __init__(self, app_loop: AppLoop) -> None:
        self._app_loop = app_loop
        self._task: asyncio.Task[Any] | None = None

    def cancel(self) -> None:
        self._app_loop.post(self._cancel_on_loop)

    def _cancel_on_loop(self) -> None:  # after the start: callbacks run in the order posted
        if self._task is not None:
            self._task.cancel()


class AppLoop:
    """An event loop running forever on a daemon thread, until it is retired and idle."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self._calls = 0  # in flight; read and written on the loop's thread only
        self._retired = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
            leftovers = asyncio.all_tasks(self.loop)  # what app code started and left running
            for task in leftovers:
                task.cancel()
            if leftovers:
                self.loop.run_until_complete(asyncio.wait(leftovers, timeout=APP_LOOP_CLOSE_SECONDS))
        except BaseException:  # app code in a leftover task cannot take the thread down noisily
            logger.exception("app loop %s ended with an error", self.name)
        finally:
            self.loop.close()

    def post(self, callback: Callable[..., Any], *args: Any) -> bool:
        """``callback(*args)`` on the loop's thread; False when the loop is closed."""
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            return False
        return True

    def start(
        self,
        coroutine: Coroutine[Any, Any, Any],
        context: contextvars.Context,
        done: Callable[[asyncio.Task[Any]], None],
    ) -> AppCall:
        """Run ``coroutine`` as a task in ``context`` on this loop; ``done(task)`` on its thread."""
        call = AppCall(self)
        if not self.post(self._start, call, coroutine, context, done):
            raise RuntimeError(f"app loop {self.name} is closed")
        return call

    def _start(
        self,
        call: AppCall,
        coroutine: Coroutine[Any, Any, Any],
        context: contextvars.Context,
        done: Callable[[asyncio.Task[Any]], None],
    ) -> None:
        task = self.loop.create_task(coroutine, context=context)
        call._task = task
        self._calls += 1
        task.add_done_callback(done)
        task.add_done_callback(self._call_ended)

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """``asyncio.run_coroutine_threadsafe``, counted as a call: a retired loop waits for it."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def done(task: asyncio.Task[Any]) -> None:
            try:
                if task.cancelled():
                    future.cancel()
                elif task.exception() is not None:
                    future.set_exception(task.exception())
                else:
                    future.set_result(task.result())
            except concurrent.futures.InvalidStateError:
                pass  # given its outcome already: the caller wrote this (stuck) loop off

        self.start(coroutine, contextvars.copy_context(), done)
        return future

    def _call_ended(self, _task: asyncio.Task[Any]) -> None:
        self._calls -= 1
        if self._retired and self._calls == 0:
            self.loop.stop()

    def retire(self) -> None:
        """No new calls come: stop once the calls in flight have ended."""
        self.post(self._retire_on_loop)

    def _retire_on_loop(self) -> None:
        self._retired = True
        if self._calls == 0:
            self.loop.stop()

    async def responds(self, within: float) -> bool:
        """Whether the loop takes a turn within ``within`` seconds."""
        caller = asyncio.get_running_loop()
        turned: asyncio.Future[None] = caller.create_future()

        def answer() -> None:
            try:
                caller.call_soon_threadsafe(settle, turned, None)
            except RuntimeError:  # the caller's loop is closed: nobody asks any more
                pass

        if not self.post(answer):
            return True  # closed: nothing of it is stuck
        done, _ = await asyncio.wait({turned}, timeout=within)
        return bool(done)


class AppLoops:
    """The app loops of a process, by release package: one serving each release, and those written off."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._serving: dict[str, AppLoop] = {}
        self._stuck: dict[str, list[AppLoop]] = {}
        self._full_logged: set[str] = set()

    def serving(self, key: str) -> AppLoop:
        with self._lock:
            app_loop = self._serving.get(key)
            if app_loop is None:
                app_loop = self._serving[key] = AppLoop(f"app-loop-{key}")
            return app_loop

    async def check_stuck(self, key: str, app_loop: AppLoop) -> bool:
        """After a call of ``app_loop`` passed its limit: write the loop off if it does not take a
        turn within APP_LOOP_STUCK_SECONDS. True when it was written off."""
        if await app_loop.responds(APP_LOOP_STUCK_SECONDS):
            return False
        with self._lock:
            if self._serving.get(key) is not app_loop:
                return False  # written off already, or the release was forgotten
            stuck = self._stuck.setdefault(key, [])
            stuck[:] = [loop for loop in stuck if loop.thread.is_alive()]
            if len(stuck) >= STUCK_APP_LOOPS_PER_RELEASE:
                if key not in self._full_logged:
                    self._full_logged.add(key)
                    logger.warning(
                        "release %s: %d event loops stuck in its async code; its calls wait for them",
                        key, len(stuck),
                    )  # fmt: skip
                return False
            self._full_logged.discard(key)
            stuck.append(app_loop)
            del self._serving[key]
        logger.warning(
            "release %s: its event loop is stuck in async code past the time limit (a computation "
            "or a blocking call that never awaits); a new loop takes its next calls",
            key,
        )
        app_loop.retire()  # it stops when its code returns and its calls have ended
        return True

    def forget(self, key: str) -> None:
        """The release is unloaded: its loops stop once their calls have ended."""
        with self._lock:
            serving = self._serving.pop(key, None)
            stuck = self._stuck.pop(key, [])
            self._full_logged.discard(key)
        for app_loop in [serving, *stuck]:
            if app_loop is not None:
                app_loop.retire()


_process: dict[str, Any] = {"pid": None, "loops": None}
_process_lock = threading.Lock()


def process_app_loops() -> AppLoops:
    """This process's app loops (made again after a fork: an RQ work horse has no thread of its parent)."""
    with _process_lock:
        if _process["pid"] != os.getpid():
            _process.update(pid=os.getpid(), loops=AppLoops())
        loops: AppLoops = _process["loops"]
        return loops
