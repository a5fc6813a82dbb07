"""The one way tenant code runs: load a release, run a handler with a time limit.

``InProcessExecutor`` runs handlers in this process: async ones on the event loop, plain ones
on a bounded thread pool of their own, each release limited to a share of it. The interface is
small on purpose, so that an executor running tenant code in isolated processes can replace it
without touching the consumer (see docs/runtime.md for what in-process execution does not
guarantee).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from dashboards.runtime.applog import current_output, install_log_handler
from dashboards.runtime.limits import HANDLER_POOL_THREADS, RELEASE_HANDLER_THREADS
from dashboards.runtime.loader import AppLoadError, LoadedApp, load_app

logger = logging.getLogger(__name__)


@dataclass
class HandlerOutcome:
    ok: bool
    timed_out: bool = False
    error: str = ""
    traceback: str = ""
    duration: float = 0.0
    output: list[tuple[str, str]] = field(default_factory=list)  # (level, line)
    value: Any = None  # what a job function returned
    exception: BaseException | None = None


class Executor(Protocol):
    def load(self, key: str, files: dict[str, str]) -> LoadedApp: ...

    async def run(
        self, app: LoadedApp, handler: str, arguments: dict[str, Any], timeout: float
    ) -> HandlerOutcome: ...

    async def run_function(
        self, app: LoadedApp, reference: str, arguments: list[Any], timeout: float
    ) -> HandlerOutcome: ...

    async def run_callable(
        self, app: LoadedApp, function: Any, arguments: tuple[Any, ...], timeout: float
    ) -> HandlerOutcome: ...

    def call(self, app: LoadedApp, reference: str, arguments: list[Any]) -> HandlerOutcome: ...


class InProcessExecutor:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(HANDLER_POOL_THREADS, thread_name_prefix="app-handler")
        self._loaded: dict[str, LoadedApp] = {}
        self._load_lock = threading.Lock()
        self._slots: dict[tuple[int, str], asyncio.Semaphore] = {}
        install_log_handler()

    def load(self, key: str, files: dict[str, str]) -> LoadedApp:
        """Import a release once per process; raise AppLoadError if it is broken."""
        with self._load_lock:
            loaded = self._loaded.get(key)
            if loaded is None:
                loaded = load_app(key, files)
                self._loaded[key] = loaded
            return loaded

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
        self, app: LoadedApp, reference: str, arguments: list[Any], timeout: float
    ) -> HandlerOutcome:
        """A function of the app named ``module:name`` (a job's status function), positionally."""
        function = app.function(reference)
        return await self._run(app, function, tuple(arguments), {}, timeout,
                               is_async=inspect.iscoroutinefunction(function))  # fmt: skip

    async def run_callable(
        self, app: LoadedApp, function: Any, arguments: tuple[Any, ...], timeout: float
    ) -> HandlerOutcome:
        """A function the app registered (an event callback), not necessarily named at module level."""
        return await self._run(app, function, tuple(arguments), {}, timeout,
                               is_async=inspect.iscoroutinefunction(function))  # fmt: skip

    async def _run(self, app: LoadedApp, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   timeout: float, *, is_async: bool) -> HandlerOutcome:  # fmt: skip
        output: list[tuple[str, str]] = []
        started = time.perf_counter()
        context = contextvars.copy_context()
        context.run(current_output.set, output)
        try:
            if is_async:
                task = asyncio.get_running_loop().create_task(function(*args, **kwargs), context=context)
                await asyncio.wait_for(task, timeout)
            else:
                loop = asyncio.get_running_loop()
                slot = self._slot(app.key)
                await slot.acquire()
                future = loop.run_in_executor(self._pool, context.run, lambda: function(*args, **kwargs))
                # The slot is given back when the thread really ends, not when we stop waiting:
                # a release whose handlers hang uses up its own share of the pool, nobody else's.
                future.add_done_callback(lambda _done: slot.release())
                await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return HandlerOutcome(ok=False, timed_out=True, error="handler timed out", output=output,
                                  duration=time.perf_counter() - started)  # fmt: skip
        except Exception as error:
            return _failed(error, output, started)
        return HandlerOutcome(ok=True, output=output, duration=time.perf_counter() - started)

    def call(self, app: LoadedApp, reference: str, arguments: list[Any]) -> HandlerOutcome:
        """Run a job's function in this thread, to its end (a work horse: a process of its own).

        Its time limit is the caller's (RQ's job timeout raises inside it); the exception is
        returned, not raised, with the output the function printed or logged.
        """
        output: list[tuple[str, str]] = []
        started = time.perf_counter()
        token = current_output.set(output)
        try:
            value = app.function(reference)(*arguments)
            if asyncio.iscoroutine(value):
                value = asyncio.run(value)
        except Exception as error:
            return _failed(error, output, started)
        finally:
            current_output.reset(token)
        return HandlerOutcome(ok=True, output=output, duration=time.perf_counter() - started, value=value)


def _failed(error: Exception, output: list[tuple[str, str]], started: float) -> HandlerOutcome:
    return HandlerOutcome(
        ok=False,
        error=f"{type(error).__name__}: {error}",
        traceback="".join(traceback.format_exception(error)),
        output=output,
        duration=time.perf_counter() - started,
        exception=error,
    )


_default: InProcessExecutor | None = None


def get_executor() -> Executor:
    global _default  # noqa: PLW0603 - one executor per process
    if _default is None:
        _default = InProcessExecutor()
    return _default


__all__ = ["AppLoadError", "Executor", "HandlerOutcome", "InProcessExecutor", "get_executor"]
