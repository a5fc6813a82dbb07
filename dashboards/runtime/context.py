"""Who is running app code right now: a handler of a tab, or a job on a worker.

SDK functions that take no ``state`` (``notify_team``, ``progress``) find their tenant, app and
job here. Work a handler asks for (jobs, team notifications) is deferred until the handler has
succeeded: a handler that raises or times out is rolled back, and so is what it asked for.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AppContext:
    tenant_id: int
    app_id: int
    release_id: int
    package: str
    user_id: int | None = None
    session_id: str = ""
    job_id: int | None = None
    # Sync work to run after the handler succeeded, in order (in a worker thread).
    deferred: list[Callable[[], Any]] = field(default_factory=list)

    @property
    def in_job(self) -> bool:
        return self.job_id is not None


current_app_context: contextvars.ContextVar[AppContext | None] = contextvars.ContextVar(
    "current_app_context", default=None
)


def require_app_context(what: str) -> AppContext:
    context = current_app_context.get()
    if context is None:
        raise RuntimeError(f"{what} can only be called while the platform runs your app's code")
    return context
