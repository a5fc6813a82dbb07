"""Who is running app code right now: a handler of a tab, or a job on a worker.

SDK functions that take no ``state`` (``notify_team``, ``progress``) find their tenant, app and
job here. Work a handler asks for (jobs, team notifications) is deferred until the handler has
succeeded: a handler that raises or times out is rolled back, and so is what it asked for.

No Django import at module level: app code imports the SDK, which imports this, while its
release is validated in a bare process.
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
    # Code the platform runs outside any handler (an on_event callback): side effects happen at once.
    immediate: bool = False
    # The process ends when this code returns (a work horse): work it starts in the background
    # (an emission on an asyncio or threads emitter) is awaited instead.
    process_ends: bool = False
    # Sync work to run after the handler succeeded, in order (in a worker thread).
    deferred: list[Callable[[], Any]] = field(default_factory=list)
    # Where a running job's progress() reports go (set by the job runner).
    progress_sink: Callable[[float | None, str], None] | None = None
    # Where invoke_long_callback's jobs go: by default, submitted once the handler succeeded;
    # the app authors' test client runs them in place instead.
    job_sink: Callable[[Any], None] | None = None
    # Where notify_team's messages go instead of the database (the test client records them).
    team_sink: Callable[[dict[str, Any]], None] | None = None
    # Where emit_event's events go instead of the database and Redis (the test client delivers them).
    event_sink: Callable[[Any], None] | None = None
    # notify_team and emit_event calls of this run so far (TEAM_NOTICES_PER_RUN, EMITS_PER_RUN).
    team_notices: int = 0
    emitted: int = 0

    @property
    def in_job(self) -> bool:
        return self.job_id is not None

    @property
    def recorded(self) -> bool:
        """The app authors' test client: what the code sends is recorded, and nothing is sent."""
        return self.team_sink is not None or self.event_sink is not None

    @property
    def acts_now(self) -> bool:
        """No handler to wait for: work asked for happens at once instead of after the handler."""
        return self.job_id is not None or self.immediate

    def submit_job(self, spec: Any) -> None:
        if self.job_sink is not None:
            self.job_sink(spec)
            return
        from dashboards.jobs.services import job_submit_spec  # noqa: PLC0415 - see the module's docstring

        self.deferred.append(
            lambda: job_submit_spec(
                spec=spec,
                tenant_id=self.tenant_id,
                app_id=self.app_id,
                release_id=self.release_id,
                user_id=self.user_id,
                session_id=self.session_id,
            )
        )


current_app_context: contextvars.ContextVar[AppContext | None] = contextvars.ContextVar(
    "current_app_context", default=None
)


def run_deferred(deferred: list[Callable[[], Any]], *, database: bool = True) -> list[Any]:
    """The deferred work of one handler, in one transaction: all of it happens, or none.

    ``database=False`` for the app authors' test client, whose sinks only record (``recorded``):
    it runs where Django may not even be configured.
    """
    if not database:
        return [work() for work in deferred]
    from django.db import transaction  # noqa: PLC0415 - this module stays free of Django at import

    with transaction.atomic():
        return [work() for work in deferred]


def require_app_context(what: str) -> AppContext:
    context = current_app_context.get()
    if context is None:
        raise RuntimeError(f"{what} can only be called while the platform runs your app's code")
    return context
