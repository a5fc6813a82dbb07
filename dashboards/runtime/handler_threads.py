"""The threads that run tenants' plain handlers: a pool whose capacity a hung handler does not use up.

A thread cannot be killed, so a handler past its time limit keeps its thread until it returns,
maybe never. With a fixed pool, a few releases whose handlers hang (8 threads each, their share)
filled it, and every other tenant's clicks waited in its queue until they timed out. Here a call
the caller gave up on is *written off*: the pool starts another thread in its place, so the
threads that serve calls stay at the pool's size. When a written-off call ends at last, one
thread beyond the size retires. At most ``late_max`` calls are written off at once; past that a
hung call costs capacity again, and the log says so.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

logger = logging.getLogger(__name__)


class HandlerThreads(Executor):
    def __init__(self, size: int, *, late_max: int, name: str) -> None:
        self._size = size
        self._late_max = late_max
        self._name = name
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._work: collections.deque[Callable[[], None]] = collections.deque()
        self._threads = 0  # alive
        self._waiting = 0  # alive and waiting for work
        self._late = 0  # running a call that was written off
        self._started = 0  # for thread names
        self._shut_down = False
        self._full_logged = False

    @property
    def late(self) -> int:
        return self._late

    @property
    def threads(self) -> int:
        return self._threads

    def start(self, call: Callable[[], None]) -> None:
        """Run ``call`` on a thread of the pool; it must not raise (nobody would hear it)."""
        with self._lock:
            if self._shut_down:
                raise RuntimeError("the handler threads are shut down")
            self._work.append(call)
            if self._waiting >= len(self._work):
                self._wake.notify()
            elif self._threads < self._size + self._late:
                self._add_thread()
            # else: every thread is busy; the call waits for the first one free

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """For ``loop.run_in_executor``."""
        future: Future[Any] = Future()

        def call() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

        self.start(call)
        return future

    def write_off(self) -> bool:
        """A call's caller gave up on it (past its time limit): another thread takes its place.
        True when counted; the caller then calls ``written_off_ended`` when that call returns."""
        with self._lock:
            if self._late >= self._late_max:
                if not self._full_logged:  # once per crossing, not at every timed-out click
                    self._full_logged = True
                    logger.error("%d handler calls are past their time limit and still running: no thread "
                                 "replaces the next ones, so the pool shrinks", self._late)  # fmt: skip
                return False
            self._late += 1
            waiting_callers = self._work and self._waiting < len(self._work)
            if waiting_callers and self._threads < self._size + self._late:  # never beyond that
                self._add_thread()
            return True

    def written_off_ended(self) -> None:
        with self._lock:
            self._late -= 1
            self._full_logged = False
            if self._threads > self._size + self._late:
                self._wake.notify_all()  # a waiting thread beyond the size retires

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Threads end once the queue is empty; a hung call's thread is a daemon and never waited for."""
        with self._lock:
            self._shut_down = True
            self._wake.notify_all()

    def _add_thread(self) -> None:
        """Under the lock."""
        self._threads += 1
        self._started += 1
        name = f"{self._name}_{self._started}"
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def _serve(self) -> None:
        while True:
            with self._lock:
                self._waiting += 1
                while not self._work and not self._should_end():
                    self._wake.wait()
                self._waiting -= 1
                if self._threads > self._size + self._late or not self._work:  # beyond the size, or shut down
                    self._threads -= 1
                    if self._work:
                        self._wake.notify()  # the call this thread leaves is another's
                    return
                call = self._work.popleft()
            call()
            del call

    def _should_end(self) -> bool:
        return self._shut_down or self._threads > self._size + self._late
