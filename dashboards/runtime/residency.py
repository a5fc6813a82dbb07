"""Which loaded releases a process still needs; the others are unloaded after a while.

Every deploy adds a release, and each process imports a release's code the first time one of its
tabs (or jobs) needs it. Without this, a long-running Daphne or worker process would keep the
code of every release it ever ran. A release is unloaded once no open tab of the process uses it
and nothing has asked for it for RELEASE_IDLE_UNLOAD_SECONDS; the next user imports it again.

There is no timer: sweeps run when tabs open and close (or from the worker's maintenance pass),
at most every RELEASE_SWEEP_EVERY_SECONDS. A process nobody uses keeps what it has, which is the
same memory it already held, never more.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from dashboards.runtime import limits

logger = logging.getLogger(__name__)


class ReleaseResidency:
    """Open tabs per release and when each was last asked for; ``sweep`` unloads the idle ones."""

    def __init__(
        self,
        unload: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._unload = unload
        self._clock = clock
        self._lock = threading.Lock()  # page threads touch, the event loop holds and lets go
        self._tabs: dict[str, int] = {}
        self._last_used: dict[str, float] = {}
        self._swept_at = clock()

    def touch(self, key: str) -> None:
        """The release was asked for (a page, a socket's connect, a job)."""
        with self._lock:
            self._last_used[key] = self._clock()
        self.sweep_if_due()

    def hold(self, key: str) -> None:
        """A tab runs on the release: it stays loaded until the tab closes."""
        with self._lock:
            self._tabs[key] = self._tabs.get(key, 0) + 1
            self._last_used[key] = self._clock()
        self.sweep_if_due()

    def let_go(self, key: str) -> None:
        with self._lock:
            left = self._tabs.get(key, 0) - 1
            if left > 0:
                self._tabs[key] = left
            else:
                self._tabs.pop(key, None)
            self._last_used[key] = self._clock()
        self.sweep_if_due()

    def tabs(self, key: str) -> int:
        return self._tabs.get(key, 0)

    def sweep_if_due(self) -> list[str]:
        if self._clock() - self._swept_at < limits.RELEASE_SWEEP_EVERY_SECONDS:
            return []
        return self.sweep()

    def sweep(self) -> list[str]:
        """Unload every release no tab holds that was last asked for longer ago than the limit.

        Under the lock: whoever asks for a release touches it first and loads it after, so a
        release is never unloaded between another thread's load and its first use.
        """
        with self._lock:
            now = self._clock()
            self._swept_at = now
            idle = [
                key
                for key, used in self._last_used.items()
                if key not in self._tabs and now - used >= limits.RELEASE_IDLE_UNLOAD_SECONDS
            ]
            for key in idle:
                self._unload_locked(key)
        if idle:
            logger.info("unloaded %d idle release(s): %s", len(idle), ", ".join(idle))
        return idle

    def unload_now(self, key: str) -> None:
        """Unload a release whatever its use (tests, whose release ids are handed out again)."""
        with self._lock:
            self._tabs.pop(key, None)
            self._unload_locked(key)

    def _unload_locked(self, key: str) -> None:
        self._last_used.pop(key, None)
        try:
            self._unload(key)
        except Exception:  # unloading is tidying: a failure must not fail the tab that swept
            logger.exception("release %s could not be unloaded", key)
