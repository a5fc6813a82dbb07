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
_output: contextvars.ContextVar[list[tuple[str, str]] | None] = contextvars.ContextVar(
    "app_output", default=None
)


@dataclass
class HandlerOutcome:
    ok: bool
    timed_out: bool = False
    error: str = ""
    traceback: str = ""
    duration: float = 0.0
    output: list[tuple[str, str]] = field(default_factory=list)  # (level, line)


class Executor(Protocol):
    def load(self, key: str, files: dict[str, str]) -> LoadedApp: ...

    async def run(
        self, app: LoadedApp, handler: str, arguments: dict[str, Any], timeout: float
    ) -> HandlerOutcome: ...


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
        function = app.handlers[handler]
        output: list[tuple[str, str]] = []
        started = time.perf_counter()
        context = contextvars.copy_context()
        context.run(current_output.set, output)
        try:
            if app.signatures[handler].is_async:
                task = asyncio.get_running_loop().create_task(function(**arguments), context=context)
                await asyncio.wait_for(task, timeout)
            else:
                loop = asyncio.get_running_loop()
                slot = self._slot(app.key)
                await slot.acquire()
                future = loop.run_in_executor(self._pool, context.run, lambda: function(**arguments))
                # The slot is given back when the thread really ends, not when we stop waiting:
                # a release whose handlers hang uses up its own share of the pool, nobody else's.
                future.add_done_callback(lambda _done: slot.release())
                await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return HandlerOutcome(ok=False, timed_out=True, error="handler timed out", output=output,
                                  duration=time.perf_counter() - started)  # fmt: skip
        except Exception as error:
            return HandlerOutcome(
                ok=False,
                error=f"{type(error).__name__}: {error}",
                traceback="".join(traceback.format_exception(error)),
                output=output,
                duration=time.perf_counter() - started,
            )
        return HandlerOutcome(ok=True, output=output, duration=time.perf_counter() - started)


_default: InProcessExecutor | None = None


def get_executor() -> Executor:
    global _default  # noqa: PLW0603 - one executor per process
    if _default is None:
        _default = InProcessExecutor()
    return _default


__all__ = ["AppLoadError", "Executor", "HandlerOutcome", "InProcessExecutor", "get_executor"]
