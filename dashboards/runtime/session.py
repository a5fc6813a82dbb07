"""One tab's session: its state, its release, and what happens to each event it sends."""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from typing import Any, cast

from dashboards.events.event import Event
from dashboards.runtime import codecs, limits
from dashboards.runtime.applog import kept_lines
from dashboards.runtime.broadcast_callbacks import callback_call, wanted_subscriptions
from dashboards.runtime.codecs import unstorable_text
from dashboards.runtime.context import AppContext, current_app_context, run_deferred
from dashboards.runtime.db import db_call
from dashboards.runtime.dispatch import DispatchError, Route, route_event
from dashboards.runtime.executor import Executor, HandlerOutcome
from dashboards.runtime.frames import frame_bytes_over_limit, render_commands, toast_command
from dashboards.runtime.limits import (
    RENDER_LIMIT_SLACK_SECONDS,
    RENDER_ON_LOOP_INPUT_BYTES,
    RENDER_ON_LOOP_SECONDS,
    STATE_MAX_BYTES,
    WRITES_DRAIN_SECONDS,
)
from dashboards.runtime.loader import LoadedApp
from dashboards.runtime.page import Page, RenderError
from dashboards.runtime.protocol import CMD_TOAST
from dashboards.runtime.render_deadline import RenderTooSlow, render_deadline
from dashboards.runtime.snapshots import SnapshotKey, snapshot_save
from dashboards.runtime.state import SessionState, check_state_key

logger = logging.getLogger(__name__)
# What the tab of someone who came by a shared link is told of a fault of the app's code.
FAULT_WITHOUT_DETAILS = {
    "error": "Something went wrong in this app; its developers have been told.",
    "warning": "That took too long and was stopped; this app's developers have been told.",
}
LogSink = Callable[[list[tuple[str, str]]], Awaitable[None]]
INPUT_KINDS = frozenset({"text_input", "number", "slider", "checkbox", "select", "scenario_selector"})
_NOT_SETTLED: Any = object()  # a handler not run for an input's settled change
# Digits of a number in a message past which it is refused: Python's int() stops at 4300 anyway
# (with a ValueError), and no id or value of the protocol comes near it.
MESSAGE_NUMBER_DIGITS = 1000
# Escapes in a message's raw text that may decode to a NUL or an unpaired surrogate; only a
# message that has one is checked further (a browser never types these, and a lone surrogate
# cannot be encoded in a UTF-8 frame: echoed back, it would fail the socket's send).
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class UnreadableMessage(ValueError):
    """A text frame that is not a message of the protocol; the text says why, for the user."""


def _refuse_constant(name: str) -> Any:
    raise UnreadableMessage(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise UnreadableMessage("a number out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > MESSAGE_NUMBER_DIGITS:
        raise UnreadableMessage("a number out of range")
    return int(text)


def read_message(text: str) -> Any:
    """Parse one browser message as strict JSON, or raise UnreadableMessage saying why.

    Strict: no NaN or Infinity, no number that overflows (1e400) or has thousands of digits, no
    NUL and no unpaired surrogate in a string (storing one would poison the state, and a frame
    echoing one cannot be sent). What passes is plain JSON any later step can store and send.
    """
    try:
        message = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int
        )
    except UnreadableMessage:
        raise
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the decoder goes
        raise UnreadableMessage("malformed JSON") from None
    if _SUSPECT_ESCAPE.search(text):
        problem = unstorable_text(message)
        if problem:
            raise UnreadableMessage(problem)
    return message


@dataclass(frozen=True)
class SessionInfo:
    """What a handler receives as ``session``: who and where, never the platform's objects."""

    session_id: str
    user_id: int | None
    username: str
    tenant: str
    app: str

    def __getitem__(self, name: str) -> Any:
        return asdict(self)[name]


def initial_values(app: LoadedApp, info: SessionInfo) -> dict[str, Any]:
    """A fresh session's state: the app's ``initial_state`` dict (copied) or its function's result."""
    source = app.initial_state
    if callable(source):
        values = source(info)
    else:
        values = {}
        for key, value in source.items():  # one by one, so a value that cannot be copied is named
            try:
                values[key] = copy.deepcopy(value)
            except Exception as error:
                raise TypeError(f"state key {key!r} cannot be copied for each session: {error}") from None
    if not isinstance(values, dict):
        raise TypeError("initial_state must give a dict")
    for key in values:
        check_state_key(key)
    return values


def encode_values(values: dict[str, Any], keys: set[str] | None = None) -> dict[str, str]:
    """Encode state keys for Redis; public keys only are ever rendered, private ones stay here too."""
    return {key: codecs.encode(values[key]) for key in (values if keys is None else keys) if key in values}


def _render_within(work: Callable[[], Any], seconds: float) -> tuple[Any, Exception | None]:
    """Page work on a handler thread: its refusal comes back as a value, as it would raise on the loop."""
    with render_deadline(seconds):
        try:
            return work(), None
        except (RenderError, RenderTooSlow) as error:
            return None, error


def _too_large(size: int) -> str:
    limit = limits.FRAME_MAX_BYTES
    return f"the page's update would be {_amount(size)}, more than the {_amount(limit)} a tab is sent at once"


def _amount(size: int) -> str:
    return f"{size / 1048576:.1f} MiB" if size >= 1048576 else f"{size / 1024:.0f} KiB"


class AppSession:
    def __init__(
        self,
        *,
        key: SnapshotKey,
        info: SessionInfo,
        release_key: str,
        app: LoadedApp,
        page: Page,
        state: SessionState,
        value_bytes: dict[str, int],
        executor: Executor,
        timeout: float,
        log_sink: LogSink,
        shows_fault_details: bool = True,
    ) -> None:
        self.key = key
        self.info = info
        self.release_key = release_key
        self.app = app
        self.page = page
        self.state = state
        state.close_between_runs()  # app code changes it only in run_code
        self.executor = executor
        self.timeout = timeout
        self.log_sink = log_sink
        # Whether a fault of the app's code is told with its details (the exception's words, the
        # handler's name) or only as a fault: the tab of someone who came by a shared link, who
        # may be anyone, learns nothing of the app's insides. Its developers read them in its log.
        self.shows_fault_details = shows_fault_details
        self._pending_writes: set[asyncio.Task[None]] = set()
        self._value_bytes = value_bytes  # the encoded size of each key of the state: see render()
        from dashboards.runtime.long_callbacks import TabJobs  # noqa: PLC0415 - models: see context.py

        self.jobs = TabJobs(self)
        self.last_run_showed_toast = False  # whether the last run of app code kept a toast of its own

    async def handle_text(self, text: str) -> str:
        """Run one incoming message; return the frame to send back (may be empty)."""
        try:
            message = read_message(text)
        except UnreadableMessage as error:
            logger.info("session %s: unreadable message dropped (%s)", self.info.session_id, error)
            return self.error_frame(f"That message could not be read ({error}).")
        try:
            route = route_event(message, self.app)
        except DispatchError as error:
            logger.info("session %s: %s", self.info.session_id, error)
            try:
                await self.log_sink([("warning", f"event refused: {error}")])
            except Exception:  # the database away: the refusal is in the server's log above
                logger.exception("session %s: the app log could not be written", self.info.session_id)
            text = str(error)
            return self.error_frame(text[:1].upper() + text[1:] + ".")
        return await self.run(route)

    async def run(self, route: Route) -> str:
        arguments = self.app.signatures[route.handler].arguments(
            {
                "state": self.state,
                "payload": route.payload,
                "context": await self._context(route),
                "session": self.info,
                "event": route.event,
                "target": route.target,
            }
        )
        return await self.run_code(
            route.handler,
            route.target,
            lambda: self.executor.run(self.app, route.handler, arguments, self.timeout),
            settled_payload=route.payload if route.settled else _NOT_SETTLED,
        )

    async def run_code(
        self, name: str, target: str | None, call: Callable[[], Awaitable[HandlerOutcome]],
        *, settled_payload: Any = _NOT_SETTLED,
    ) -> str:  # fmt: skip
        """Run app code against this tab's state (a handler, a status function); return the frame."""
        state = self.state
        context = self.app_context()
        self.last_run_showed_toast = False
        token = current_app_context.set(context)
        state.open_for_run()
        try:
            outcome = await call()
        finally:
            current_app_context.reset(token)
            state.close_between_runs()  # closed before the commit: the commit and the undo need no writes
        lines = kept_lines(outcome.output)
        if outcome.timed_out:
            self.state = state.detach()
            self.state.close_between_runs()
            lines.append(("error", f"{name}: timed out after {self.timeout:g} s; its changes were undone"))
            frame = self.fault_frame(f"{name} timed out.", level="warning")
        elif not outcome.ok:
            state.rollback()
            lines.append(("error", outcome.traceback or outcome.error))
            frame = self.fault_frame(f"Something went wrong in {name}: {outcome.error}")
        else:
            frame = await self._commit(name, target, context, lines, settled_payload)
        if lines:  # written after the frame goes out: the user does not wait for the database
            self.write_later(self._write_log(lines))
        return frame

    def write_later(self, write: Coroutine[Any, Any, None]) -> None:
        """A database write the tab does not wait for, but that its closing does (``finish_writes``)."""
        task = asyncio.get_running_loop().create_task(write)
        self._pending_writes.add(task)  # held: the loop keeps only weak references to tasks
        task.add_done_callback(self._pending_writes.discard)

    async def _write_log(self, lines: list[tuple[str, str]]) -> None:
        try:
            await self.log_sink(lines)
        except Exception:  # the database away: the lines are lost, the session goes on
            logger.exception("session %s: %d app log lines not written", self.info.session_id, len(lines))

    async def finish_writes(self, timeout: float = WRITES_DRAIN_SECONDS) -> None:
        """Wait for the writes still under way, so a closed tab's last log lines are kept."""
        if self._pending_writes:
            await asyncio.wait(set(self._pending_writes), timeout=timeout)

    async def handle_event(self, event: Event) -> str:
        """An event of the tenant: this app's broadcast_on_event callbacks, with this tab's state."""
        frames = []
        for subscription in wanted_subscriptions(self.app.event_subscriptions(broadcast=True), event):
            call = callback_call(subscription, self.state, event)
            batch = (id(event), subscription.name)  # the same callback for this event in every tab
            run = functools.partial(self.executor.run_batched, self.app, batch, call, self.timeout)
            frames.append(await self.run_code(subscription.name, None, run))
        return "".join(frames)

    async def refresh_scenarios(self, rows: list[dict[str, Any]] | None = None) -> str:
        """Re-read the app's scenarios into the ``scenarios`` key; the frame of the components showing them.

        Call it through the tab's ordered queue (never while a handler runs) when a scenario event
        of this app arrives, or after a gap. "" when the page shows no scenario component or
        nothing changed. The rows are read off the event loop (``db_call``).
        """
        from dashboards.runtime.components import SCENARIOS_KEY, page_uses_scenarios  # noqa: PLC0415
        from dashboards.scenarios.selectors import scenario_summaries  # noqa: PLC0415 - models: see context.py

        if not page_uses_scenarios(self.page):
            return ""
        if rows is None:  # else: read once for every tab of the app (session_events.shared_scenario_rows)
            rows = await db_call(scenario_summaries)(tenant_id=self.key.tenant_id, app_id=self.key.app_id)
        if rows == self.state.get(SCENARIOS_KEY):
            return ""
        self.state.open_for_run()  # the platform's own write, between the app's runs
        try:
            self.state[SCENARIOS_KEY] = rows
        finally:
            self.state.close_between_runs()
        self.state.commit()
        values = self.state.values()
        encoded = encode_values(values, {SCENARIOS_KEY})
        self._value_bytes[SCENARIOS_KEY] = len(encoded[SCENARIOS_KEY])
        await snapshot_save(self.key, release=self.release_key, encoded=encoded)
        try:
            return await self.render(self.page.components_reading({SCENARIOS_KEY}), values)
        except (RenderError, RenderTooSlow) as error:
            logger.warning("session %s: scenarios not shown: %s", self.info.session_id, error)
            return self.error_frame(f"The scenarios could not be shown: {error}.")

    async def render(
        self,
        component_ids: list[str],
        values: dict[str, Any],
        encoded: dict[str, str] | None = None,
        *,
        lenient: bool = False,
        state_bytes: int | None = None,
    ) -> str:
        """Components' fragments, on the event loop when quick, else on a handler thread.

        See render_deadline.py. ``state_bytes``: the encoded size of ``values`` (the session's
        state when not given). Raises RenderError (see Page.render_components), or RenderTooSlow
        past the app's handler time limit.
        """
        render = functools.partial(
            self.page.render_components,
            component_ids,
            values,
            encoded,
            lenient=lenient,
            reasons=self.shows_fault_details,
        )
        return cast(str, await self._page_work(render, state_bytes))

    async def _page_work(self, work: Callable[[], Any], state_bytes: int | None = None) -> Any:
        """The page's code (a render, a repeater's lookup) on the event loop when the input is
        small and it is quick, else on the app's own handler threads: a page that is slow uses up
        its app's share. Raises what ``work`` raises (off the loop, a RenderError unless it is one
        already), or RenderTooSlow past the app's time limit."""
        if state_bytes is None:
            state_bytes = sum(self._value_bytes.values())
        if state_bytes + self.page.source_chars <= RENDER_ON_LOOP_INPUT_BYTES:
            try:
                with render_deadline(RENDER_ON_LOOP_SECONDS):
                    return work()
            except RenderTooSlow:
                logger.info("session %s: page work outgrew the event loop", self.info.session_id)
        outcome = await self.executor.run_callable(
            self.app, _render_within, (work, self.timeout), self.timeout + RENDER_LIMIT_SLACK_SECONDS
        )
        if outcome.timed_out:  # a single call that ran on past the limit
            raise RenderTooSlow(self.timeout)
        if not outcome.ok:
            raise RenderError("page", RuntimeError(outcome.error))
        value, error = outcome.value
        if error is not None:
            raise error
        return value

    def app_context(self) -> AppContext:
        return AppContext(
            tenant_id=self.key.tenant_id,
            app_id=self.key.app_id,
            release_id=int(self.release_key),
            package=self.app.package,
            user_id=self.info.user_id,
            session_id=self.info.session_id,
        )

    def _input_shows_other(self, target: str, payload: Any, values: dict[str, Any]) -> bool:
        """The input the user just left shows ``payload``; its one state key holds something else
        (its handler clamped or cleaned it): it is sent back, or the page would show a stale value."""
        keys = self.page.keys_read.get(target) if target in self.page.components else None
        if not keys or len(keys) != 1:
            return False
        value = values.get(keys[0])
        kind = self.page.component_kind(target)
        if kind == "checkbox":
            return bool(value) != bool(payload)
        if kind in ("number", "slider"):
            if value is None or payload is None:
                return (value is None) != (payload is None)
            try:
                return float(value) != float(payload)
            except (TypeError, ValueError, OverflowError):
                return True
        return ("" if value is None else str(value)) != ("" if payload is None else str(payload))

    async def _commit(
        self, name: str, target: str | None, context: AppContext, lines: list[tuple[str, str]],
        settled_payload: Any = _NOT_SETTLED,
    ) -> str:  # fmt: skip
        state = self.state
        mutated = state.mutated_keys()
        values = state.values()
        try:
            encoded = encode_values(values, mutated)
            size = sum(len(v) for v in encoded.values())
            if size > STATE_MAX_BYTES:
                raise codecs.NotSerialisable(f"the state grew past {STATE_MAX_BYTES} bytes")
        except (codecs.NotSerialisable, TypeError) as error:
            state.rollback()
            lines.append(("error", f"{name}: state not kept: {error}"))
            return self.fault_frame(f"{name} left state that cannot be kept: {error}")
        deleted = {key for key in mutated if key not in values}
        component_ids = self.page.components_reading(mutated)  # a deleted key reads None: shown as such
        if target is not None and self.page.component_kind(target) in INPUT_KINDS:
            if settled_payload is not _NOT_SETTLED and self._input_shows_other(
                target, settled_payload, values
            ):
                if target not in component_ids:  # the user left it showing what the state is not
                    component_ids.append(target)
            elif target in component_ids:
                component_ids.remove(target)  # never overwrite the input the user is typing in
        sizes = {key: size for key, size in self._value_bytes.items() if key not in deleted}
        sizes.update((key, len(text)) for key, text in encoded.items())
        try:  # before the state is kept: a state the page cannot show would break every reload
            fragments = await self.render(component_ids, values, encoded, state_bytes=sum(sizes.values()))
        except (RenderError, RenderTooSlow) as error:
            state.rollback()
            lines.append(("error", f"{name}: its changes were undone: {error}"))
            return self.fault_frame(f"{name} left state the page cannot show ({error}); it was undone.")
        frame = fragments + render_commands(state.pending_commands())
        oversized = frame_bytes_over_limit(frame)
        if oversized is not None:  # the browser would get nothing: undone, and said so
            state.rollback()
            lines.append(("error", f"{name}: its changes were undone: {_too_large(oversized)}"))
            return self.fault_frame(f"{name} was undone: {_too_large(oversized)}.")
        if context.deferred:  # jobs and team notifications the code asked for: all or nothing
            try:
                results = await db_call(run_deferred)(context.deferred)
            except Exception as error:
                state.rollback()
                if isinstance(error, ValueError):  # refused for the app's own reason (an unknown team...)
                    logger.info(
                        "session %s: %s: deferred work refused: %s", self.info.session_id, name, error
                    )
                else:  # the platform's: the database away
                    logger.exception("session %s: %s: deferred work failed", self.info.session_id, name)
                lines.append(("error", f"{name}: {type(error).__name__}: {error}; its changes were undone"))
                return self.fault_frame(f"{name} could not be completed: {error}")
            self.jobs.watch_submitted(results)
        state.commit()
        self._value_bytes = sizes
        self.last_run_showed_toast = any(command["type"] == CMD_TOAST for command in state.take_commands())
        await snapshot_save(self.key, release=self.release_key, encoded=encoded, deleted=deleted)
        return frame

    async def full_frame(self) -> str:
        """Every component, for a tab that reconnects to a restored session.

        Lenient: a component that cannot show the restored state (kept by an earlier release, say)
        shows why, and the tab opens all the same; so it does when the whole render is too slow.
        """
        try:
            frame = await self.render(list(self.page.components), self.state.values(), lenient=True)
        except RenderTooSlow as error:
            problem = str(error)
        else:
            oversized = frame_bytes_over_limit(frame)
            if oversized is None:
                return frame
            problem = _too_large(oversized)
        logger.warning("session %s: restored state not shown: %s", self.info.session_id, problem)
        self.write_later(self._write_log([("error", f"a reconnecting tab's page was not shown: {problem}")]))
        return self.error_frame(f"This page could not show your saved state: {problem}.")

    def error_frame(self, message: str, level: str = "error") -> str:
        return render_commands([toast_command(level, message)])

    def fault_frame(self, details: str, level: str = "error") -> str:
        """The toast for a fault of the app's code, whose details its log has (``shows_fault_details``)."""
        if self.shows_fault_details:
            return self.error_frame(details, level)
        return self.error_frame(FAULT_WITHOUT_DETAILS[level], level)

    async def _context(self, route: Route) -> dict[str, Any]:
        context: dict[str, Any] = {"event": route.event, "target": route.target}
        if route.repeat_key is not None and route.target:
            context["repeat_key"] = route.repeat_key
            context["repeat_value"] = await self._repeat_value(route)
        return context

    async def _repeat_value(self, route: Route) -> Any:
        """The item a repeated component stands for (Page.repeat_value), read as a render is
        (``_page_work``: a filter over a large list is one call nothing can stop midway)."""
        read = functools.partial(
            self.page.repeat_value, route.target or "", route.repeat_key or "", self.state.values()
        )
        try:
            return await self._page_work(read)
        except Exception as error:  # the collection's filters failing on this state, or too slow
            logger.info("session %s: repeater of %s not read: %s", self.info.session_id, route.target, error)
            return None  # the handler gets no value
