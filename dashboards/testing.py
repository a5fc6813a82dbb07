"""A test client for app authors: run an app's handlers against a session, without a server.

    from dashboards.testing import AppTestClient

    def test_increment():
        app = AppTestClient.from_file("main.py")
        app.click("increment")
        assert app.state["count"] == 1
        assert app.rendered("count")  # the component's HTML after the change

It loads the app the way the platform does (same handler discovery, argument injection, state
tracking and rollback), so what passes here behaves the same when deployed. Long callbacks run
in place, right after the handler that asked for them: their progress reports and their status
function calls happen in order, and ``app.jobs`` tells what ran; ``notify_team`` messages are
recorded in ``app.team_notifications``.

Scenarios live in memory (``app.scenarios``, a ``MemoryScenarios``: its ``rows`` and ``events``);
a submitted scenario's task runs in place right after the handler, like a long callback (it is
listed in ``app.jobs``), and the ``scenarios`` key of the scenario components is kept up to date.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dashboards.events.emitter import EMISSION_TASK_NAME
from dashboards.events.event import Event
from dashboards.events.values import event_fields_checked
from dashboards.jobs.specs import (
    JobProgress,
    JobSpec,
    bounded_result,
    display_title,
    ended_error,
    status_call_arguments,
)
from dashboards.runtime.codecs import NotSerialisable
from dashboards.runtime.components import SCENARIOS_KEY, page_uses_scenarios
from dashboards.runtime.context import AppContext, current_app_context, run_deferred
from dashboards.runtime.dispatch import route_event
from dashboards.runtime.limits import DEFAULT_HANDLER_TIMEOUT_SECONDS, STATE_MAX_BYTES
from dashboards.runtime.loader import AppLoadError, LoadedApp, Problem, load_app, unload
from dashboards.runtime.page import Page, compile_page
from dashboards.runtime.protocol import CMD_TOAST, HANDLER_EVENTS, UI_CHANGE, UI_CLICK
from dashboards.runtime.render_deadline import render_deadline
from dashboards.runtime.session import SessionInfo, encode_values, initial_values
from dashboards.runtime.state import SessionState
from dashboards.scenarios.api import scenario_store
from dashboards.scenarios.memory import MemoryScenarios

__all__ = ["AppLoadError", "AppTestClient"]


def _load_as_validation_would(key: str, files: dict[str, str]) -> LoadedApp:
    """The app, or AppLoadError with what a deploy's validation report would say: an app that loads
    here is a valid release (a page naming an unknown handler, a parameter that cannot be injected,
    state that cannot be kept, were refused only when deployed)."""
    from dashboards.hosting.validator import loaded_app_problems, with_import_hint  # noqa: PLC0415

    try:
        app = load_app(key, files)
    except AppLoadError as error:
        hinted = [Problem(**with_import_hint(problem.as_dict(), files)) for problem in error.problems]
        raise AppLoadError(hinted) from None
    problems, _ = loaded_app_problems(app)
    if problems:
        unload(key)
        raise AppLoadError(problems)
    return app


async def _with_what_it_started(handler: Any) -> Any:
    """An async handler, then the emissions it left on the loop (an asyncio emitter's subscribers):
    the end of the call would cancel them, where the platform's loop runs them. Other tasks it
    started (a ticker of its own) are cancelled at the end (``_run_on_loop``)."""
    result = await handler
    while emissions := {task for task in asyncio.all_tasks() if task.get_name() == EMISSION_TASK_NAME}:
        await asyncio.wait(emissions)
    return result


class AppTestClient:
    def __init__(self, files: dict[str, str] | str, *, username: str = "tester") -> None:
        if isinstance(files, str):
            files = {"main.py": files}
        self._key = f"test{uuid.uuid4().hex[:12]}"
        self.app: LoadedApp = _load_as_validation_would(self._key, files)
        self.page: Page = compile_page(self.app.page_source)
        self.session = SessionInfo(
            session_id=self._key, user_id=None, username=username, tenant="test", app="test"
        )
        self.state = SessionState(initial_values(self.app, self.session))
        self.commands: list[dict[str, Any]] = []
        self.last_mutated: set[str] = set()
        self.jobs: list[dict[str, Any]] = []
        self.team_notifications: list[dict[str, Any]] = []
        self.scenarios = MemoryScenarios(owner=username)
        self.events: list[Event] = []  # what the app emitted with emit_event, in order
        self._undelivered: list[Event] = []
        self._loop: asyncio.AbstractEventLoop | None = None  # the app's async code runs here
        self._refresh_scenarios()

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> AppTestClient:
        """What ``deploy_app PATH`` deploys: a ``.py`` file (its ``main.py``), a folder or a ``.zip``
        of ``main.py``, its modules and ``page.html``, read by the same rules."""
        from dashboards.hosting.uploads import release_files_from_folder, release_files_from_upload  # noqa: PLC0415

        path = Path(path)
        if path.is_dir():
            return cls(release_files_from_folder(path), **kwargs)
        return cls(release_files_from_upload(path.name, path.read_bytes()), **kwargs)

    # --- sending events ---
    def click(
        self, handler: str, *, target: str | None = None, payload: Any = None, repeat_key: Any = None
    ) -> set[str]:
        """A click; in a repeater, ``target`` is the component's id and ``repeat_key`` the item's
        key (its index in a list), and the handler's context gets ``repeat_value`` as on the page."""
        if repeat_key is not None:
            repeat_key = str(repeat_key)  # what the page sends: text, an index too
            if target is not None:
                target = f"{target}-{repeat_key}"  # the repeated component's id, as the page writes it
        return self.send({"event": UI_CLICK, "handler": handler, "target": target, "payload": payload,
                          "repeat_key": repeat_key})  # fmt: skip

    def change(self, handler: str, value: Any, *, target: str | None = None) -> set[str]:
        return self.send({"event": UI_CHANGE, "handler": handler, "target": target, "payload": value})

    def emit(self, event: str, payload: Any = None) -> set[str]:
        """An app-defined event, as ``dashboards.emit(event, payload)`` or ``data-emit`` send it."""
        if event in HANDLER_EVENTS:
            raise ValueError(f"{event} is a component's event, which names its handler: "
                             f"click(handler, payload=...) sends it")  # fmt: skip
        return self.send({"event": event, "payload": payload})

    def send(self, message: dict[str, Any]) -> set[str]:
        """Run one message through the dispatcher and its handler; return the mutated keys.

        A handler that raises is rolled back, as on the platform, and the exception is re-raised;
        so is one that leaves state the platform would refuse to keep (``NotSerialisable``) or that
        the page cannot show (``RenderError``). The long callbacks it asked for then run to their end.
        """
        route = route_event(message, self.app)
        context: dict[str, Any] = {"event": route.event, "target": route.target}
        if route.repeat_key is not None and route.target:
            context["repeat_key"] = route.repeat_key
            context["repeat_value"] = self.page.repeat_value(
                route.target, route.repeat_key, self.state.values()
            )
        available = {"state": self.state, "payload": route.payload, "session": self.session,
                     "context": context, "event": route.event, "target": route.target}  # fmt: skip
        arguments = self.app.signatures[route.handler].arguments(available)
        function = self.app.handlers[route.handler]
        asked: list[JobSpec] = []
        self._run(lambda: function(**arguments), jobs=asked.append)
        for spec in asked:
            self._run_job(spec)
        self.scenarios.run_pending(self._run_scenario)
        self._refresh_scenarios()
        mutated = self.last_mutated
        self._deliver_emitted()
        return mutated | self.last_mutated

    def deliver_event(self, event: Event | None = None, **fields: Any) -> set[str]:
        """A platform event reaching this app, as ``Event(entity_type=..., operation=..., ...)``.

        Its ``on_event`` callbacks run in place, then its ``broadcast_on_event`` callbacks with
        this tab's state; the events they emit are delivered the same way. Returns the mutated keys.
        """
        self._undelivered.append(event if event is not None else Event(**fields))
        self.last_mutated = set()
        return self._deliver_emitted()

    def _deliver_emitted(self, depth_limit: int = 3) -> set[str]:
        """As the platform does, a callback that raises stops none of the others; its error is
        raised once every callback has run (the first one, the others noted on it)."""
        mutated: set[str] = set()
        failures: list[BaseException] = []
        for _ in range(depth_limit):
            events, self._undelivered = self._undelivered, []
            for event in events:
                for on_event in self.app.event_subscriptions(broadcast=False):
                    if on_event.matches(event):
                        call = functools.partial(on_event.callback, event, *on_event.callback_args)
                        self._run_noting(failures, call, immediate=True)
                for broadcast in self.app.event_subscriptions(broadcast=True):
                    if broadcast.matches(event):
                        args = (self.state, event, *broadcast.callback_args)
                        if self._run_noting(failures, functools.partial(broadcast.callback, *args)):
                            mutated |= self.last_mutated
        if failures:
            for other in failures[1:]:
                failures[0].add_note(f"another event callback failed too: {type(other).__name__}: {other}")
            raise failures[0]
        return mutated

    def _run_noting(self, failures: list[BaseException], call: Callable[[], Any], **options: Any) -> bool:
        try:
            self._run(call, **options)
        except Exception as error:
            failures.append(error)
            return False
        return True

    def _emitted(self, event: Event) -> None:
        # Checked as the platform checks it (small JSON, storable text): EventRefused otherwise.
        event_fields_checked(entity_id=event.entity_id, attribute_name=event.attribute_name,
                             attribute_value=event.attribute_value, metadata=event.metadata)  # fmt: skip
        self.events.append(event)
        self._undelivered.append(event)

    def _run(
        self,
        call: Callable[[], Any],
        *,
        jobs: Callable[[JobSpec], None] | None = None,
        immediate: bool = False,
    ) -> None:
        """Run app code against the state, as the platform does: commit, or roll back and raise."""
        context = AppContext(tenant_id=0, app_id=0, release_id=0, package=self.app.package,
                             session_id=self.session.session_id, job_sink=jobs or self._no_jobs,
                             team_sink=self.team_notifications.append, event_sink=self._emitted,
                             immediate=immediate)  # fmt: skip
        token = current_app_context.set(context)
        store_token = scenario_store.set(self.scenarios)
        try:
            value = call()
            if inspect.iscoroutine(value):  # asyncio.iscoroutine is true of a generator too
                self._run_on_loop(value)
            elif inspect.isgenerator(value) or inspect.isasyncgen(value):  # as the platform refuses it
                raise TypeError("a generator function cannot be a handler: a handler must be a plain "
                                "or an async function")  # fmt: skip
            self._check_keepable()
            self._run_deferred(context.deferred)
        except BaseException:
            self.state.rollback()
            raise
        finally:
            scenario_store.reset(store_token)
            current_app_context.reset(token)
        self.last_mutated = self.state.commit()
        self.commands += self.state.take_commands()

    def _run_deferred(self, deferred: list[Callable[[], Any]]) -> None:
        """What a handler sends once it has succeeded (its team notifications, its events), as the
        platform sends it: after the handler, all of it or, when one is refused, none."""
        kept = len(self.team_notifications), len(self.events), len(self._undelivered)
        try:
            run_deferred(deferred, database=False)
        except BaseException:
            del self.team_notifications[kept[0] :], self.events[kept[1] :], self._undelivered[kept[2] :]
            raise

    def _run_on_loop(self, coroutine: Any) -> None:
        """On the app's one loop, as on the platform (its release's loop): a client the module made
        on an earlier call still works. Tasks the handler left are cancelled at its end."""
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        loop = self._loop
        try:
            loop.run_until_complete(_with_what_it_started(coroutine))
        finally:
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            if leftovers:
                loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))

    def _check_keepable(self) -> None:
        """What the platform checks before it keeps a handler's changes: state its codec can store
        (within the size limit) and that the page can show. Raises as the platform refuses."""
        mutated = self.state.mutated_keys()
        values = self.state.values()
        size = sum(len(text) for text in encode_values(values, mutated).values())
        if size > STATE_MAX_BYTES:
            raise NotSerialisable(f"the state grew past {STATE_MAX_BYTES} bytes")
        with render_deadline(DEFAULT_HANDLER_TIMEOUT_SECONDS):  # RenderTooSlow, as the platform's limit
            # A deleted key reads None, and its components are shown so, as on the platform.
            self.page.render_components(self.page.components_reading(mutated), values)

    @staticmethod
    def _no_jobs(spec: JobSpec) -> None:
        raise RuntimeError("invoke_long_callback is called from a handler, not from a status function")

    def _run_job(self, spec: JobSpec) -> None:
        title = display_title(spec.function, spec.title)
        record: dict[str, Any] = {"function": spec.function, "title": title, "arguments": spec.arguments,
                                  "progress": []}  # fmt: skip
        self.jobs.append(record)
        status_function = self.app.function(spec.status_function) if spec.status_function else None

        def report(fraction: float | None, message: str) -> None:
            record["progress"].append((fraction, message))
            if status_function is not None:
                status = JobProgress(0, fraction, message)
                self._call_status(status_function, spec, status, None)

        context = AppContext(tenant_id=0, app_id=0, release_id=0, package=self.app.package, job_id=0,
                             progress_sink=report, team_sink=self.team_notifications.append,
                             event_sink=self._emitted)  # fmt: skip
        token = current_app_context.set(context)
        store_token = scenario_store.set(self.scenarios)
        try:
            result, refused = bounded_result(self.app.function(spec.function)(*spec.arguments))
            if refused:  # as on the platform: too large, NaN, a NUL... fails the job
                record.update(status="failed", error=refused)
            else:
                record.update(status="finished", result=result)
        except (Exception, SystemExit) as error:  # a job's failure is its status, not the test's
            record.update(status="failed", error=f"{type(error).__name__}: {error}")
        finally:
            scenario_store.reset(store_token)
            current_app_context.reset(token)
        if status_function is not None:
            succeeded = record["status"] == "finished"
            why = ended_error(record["status"], record.get("error") or "")
            self._call_status(status_function, spec, succeeded, record.get("result"), why)

    def _run_scenario(self, function: str, parameters: dict[str, Any], title: str = "") -> dict[str, Any]:
        """A submitted scenario's task, run as its job would be: ``task(parameters)``."""
        self._run_job(JobSpec(function=function, arguments=[parameters], title=title))
        return self.jobs[-1]

    def _refresh_scenarios(self) -> None:
        """What the platform does for pages with scenario components: the ``scenarios`` key, current."""
        rows = self.scenarios.summaries()
        if page_uses_scenarios(self.page) and self.state[SCENARIOS_KEY] != rows:
            self.state[SCENARIOS_KEY] = rows
            self.last_mutated = self.last_mutated | self.state.commit()

    def _call_status(
        self, function: Callable[..., Any], spec: JobSpec, status: Any, result: Any, error: str | None = None
    ) -> None:
        arguments, keywords = status_call_arguments(
            function, self.state, status, result, list(spec.status_arguments), error=error
        )
        self._run(lambda: function(*arguments, **keywords))

    # --- looking at the result ---
    @property
    def toasts(self) -> list[dict[str, Any]]:
        return [c for c in self.commands if c["type"] == CMD_TOAST]

    def rendered(self, component_id: str) -> str:
        return self.page.render_components([component_id], self.state.values())

    def render(self) -> str:
        return self.page.render(self.state.values())

    def close(self) -> None:
        unload(self._key)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def __del__(self) -> None:  # a client never closed: its loop, at least, is (no ResourceWarning)
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed() and not loop.is_running():
            loop.close()

    def __enter__(self) -> AppTestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
