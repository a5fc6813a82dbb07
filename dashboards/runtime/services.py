"""Starting and restoring tab sessions, shared by the page view and the consumer."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, cast

from dashboards.hosting.models import App, AppRelease
from dashboards.hosting.services import app_log_append
from dashboards.runtime.applog import kept_lines
from dashboards.runtime.components import SCENARIOS_KEY, page_uses_scenarios
from dashboards.runtime.db import db_call
from dashboards.runtime.executor import AppLoadError, get_executor, load_release
from dashboards.runtime.limits import (
    DEFAULT_HANDLER_TIMEOUT_SECONDS,
    SNAPSHOT_UNCONNECTED_SECONDS,
    STATE_MAX_BYTES,
)
from dashboards.runtime.loader import LoadedApp
from dashboards.runtime.loops import run_from_thread
from dashboards.runtime.page import Page, PageError, compile_page
from dashboards.runtime.residency import ReleaseResidency
from dashboards.runtime.session import AppSession, SessionInfo, encode_values, initial_values
from dashboards.runtime.snapshots import (
    Snapshot,
    SnapshotKey,
    snapshot_load,
    snapshot_replace,
    snapshot_replace_sync,
    snapshot_save,
)
from dashboards.runtime.state import SessionState
from dashboards.scenarios.selectors import scenario_summaries

_pages: dict[str, Page] = {}  # compiled once per loaded release, unloaded with it


def unload_release(key: str) -> None:
    """Drop a release's code and compiled page from this process; its next user loads it again."""
    get_executor().forget(key)
    _pages.pop(key, None)


# The releases this process's tabs use: the others are unloaded when idle (residency.py).
residency = ReleaseResidency(unload_release)


class AppUnavailable(Exception):
    """The app cannot run (no active release, or its code is broken); the message is for users."""


@dataclass(frozen=True)
class ReleaseRuntime:
    release: AppRelease
    app: LoadedApp
    page: Page

    @property
    def key(self) -> str:
        return str(self.release.pk)


def release_runtime(release: AppRelease | None) -> ReleaseRuntime:
    """The loaded code and compiled page of a release (once per process)."""
    if release is None:
        raise AppUnavailable("This app has no release yet.")
    key = str(release.pk)
    residency.touch(key)  # before loading: an idle sweep cannot unload it under our feet
    try:
        loaded = load_release(release.pk, lambda: release.files)  # files read (a query) only to load
        page = _pages.get(key)
        if page is None:
            page = _pages[key] = compile_page(loaded.page_source)
    except (AppLoadError, PageError) as error:
        app_log_append(app_id=release.app_id, tenant_id=release.tenant_id, release_id=release.pk,
                       lines=[("error", f"release v{release.version} failed to start: {error}")])  # fmt: skip
        raise AppUnavailable("This app failed to start; its developers have been told in its log.") from None
    return ReleaseRuntime(release=release, app=loaded, page=page)


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def snapshot_owner(user: Any, visitor: str = "") -> str:
    """Whose a saved session is: a signed-in user's, or (through a shared link) a browser's."""
    if user is not None and user.is_authenticated:
        return f"u{user.pk}"
    if not visitor:
        raise ValueError("a visitor who is not signed in needs the id their browser's cookie holds")
    return f"link:{visitor}"


def visitor_tab_id(visitor: str, session_id: str) -> str:
    """A link visitor's tab as its jobs and its channel group know it. A member's tab is told
    apart by its user too (``tab_group``, ``jobs_of_tab``); visitors have none, so their
    browser's id is part of it: another browser naming the same tab id reaches none of its jobs."""
    if not visitor:
        raise ValueError("a visitor who is not signed in needs the id their browser's cookie holds")
    return "v" + hashlib.sha256(f"{visitor}:{session_id}".encode()).hexdigest()[:40]


def session_info(*, session_id: str, user: Any, app: App, visitor: str = "") -> SessionInfo:
    """What the app's code learns of the session; a link visitor who is not signed in has no user,
    and their tab's id (``session.session_id``, what its jobs carry) is bound to their browser."""
    if user is None or not user.is_authenticated:
        return SessionInfo(session_id=visitor_tab_id(visitor, session_id), user_id=None, username="",
                           tenant=app.tenant.slug, app=app.slug)  # fmt: skip
    return SessionInfo(session_id=session_id, user_id=user.pk, username=user.get_username(),
                       tenant=app.tenant.slug, app=app.slug)  # fmt: skip


def handler_timeout(app: App) -> float:
    return float(app.handler_timeout_seconds or DEFAULT_HANDLER_TIMEOUT_SECONDS)


async def fresh_values(
    *, app: App, runtime: ReleaseRuntime, info: SessionInfo
) -> tuple[dict[str, Any], dict[str, str]]:
    """A new session's state from the app's ``initial_state``, run as its handlers are, and its
    encoding (what the snapshot keeps).

    Through the executor, with the app's handler time limit: a function that hangs or raises
    costs its own release's share of the handler threads, never a page request's thread.
    Raises AppUnavailable, with the reason and the traceback in the app's log.
    """
    if not callable(runtime.app.initial_state):  # a dict, checked by validation: copied, no app code runs
        values = initial_values(runtime.app, info)
        return values, encode_values(values)
    outcome = await get_executor().run_callable(
        runtime.app, initial_values, (runtime.app, info), handler_timeout(app)
    )
    lines = kept_lines(outcome.output)
    if outcome.ok:
        values = cast("dict[str, Any]", outcome.value)
        # Validation called it for a made-up session only: what it gives a real user may not keep.
        encoded, problem = _encoded(values)
        if encoded is not None:
            return values, encoded
        lines.append(
            ("error", f"initial_state gave state that cannot be kept ({problem}): no session could start")
        )
    else:
        problem = "timed out" if outcome.timed_out else f"raised {outcome.error}"
        lines.append(("error", f"initial_state {problem}: no session could start"))
        if outcome.traceback:
            lines.append(("error", outcome.traceback.rstrip()))
    await db_call(app_log_append)(
        app_id=app.pk, tenant_id=app.tenant_id, release_id=runtime.release.pk, lines=lines
    )
    raise AppUnavailable("This app failed to start; its developers have been told in its log.")


def _encoded(values: dict[str, Any]) -> tuple[dict[str, str] | None, str]:
    """A new session's state encoded, or why it cannot be kept (as a handler's changes would not)."""
    try:
        encoded = encode_values(values)
    except (TypeError, ValueError) as error:  # NotSerialisable, or a codec's own complaint
        return None, str(error) or type(error).__name__
    size = sum(len(text) for text in encoded.values())
    return (
        (None, f"it takes {size} bytes, over {STATE_MAX_BYTES}") if size > STATE_MAX_BYTES else (encoded, "")
    )


def session_start_for_page(
    *, app: App, user: Any, runtime: ReleaseRuntime, visitor: str = ""
) -> tuple[str, SessionState]:
    """A new tab: fresh state, saved so the socket finds it; the page is rendered from it.

    Returns the tab's session id (the page hands it to its socket) and its state. Raises
    AppUnavailable when the app's ``initial_state`` fails or times out.
    """
    session_id = new_session_id()
    info = session_info(session_id=session_id, user=user, app=app, visitor=visitor)
    values, encoded = run_from_thread(fresh_values(app=app, runtime=runtime, info=info))
    if page_uses_scenarios(runtime.page):
        values[SCENARIOS_KEY] = scenario_summaries(tenant_id=app.tenant_id, app_id=app.pk)
        encoded |= encode_values(values, {SCENARIOS_KEY})
    key = SnapshotKey(app.tenant_id, app.pk, snapshot_owner(user, visitor), session_id)
    snapshot_replace_sync(key, release=runtime.key, encoded=encoded, ttl=SNAPSHOT_UNCONNECTED_SECONDS)
    return session_id, SessionState(values)


async def _add_missing_keys(
    *, app: App, runtime: ReleaseRuntime, info: SessionInfo, key: SnapshotKey, saved: Snapshot
) -> tuple[dict[str, Any], dict[str, int]]:
    """The saved values and sizes with the ``initial_state`` values of the keys they lack.

    Those are written too (with the release), and keys that could not be decoded and have no
    initial value are dropped from the snapshot: the next load finds what this session uses.
    """
    fresh, fresh_encoded = await fresh_values(app=app, runtime=runtime, info=info)
    added = {name: value for name, value in fresh.items() if name not in saved.values}
    encoded = {name: fresh_encoded[name] for name in added}
    await snapshot_save(key, release=runtime.key, encoded=encoded, deleted=saved.undecodable - set(added))
    values = {**added, **saved.values}
    sizes = {**{name: len(text) for name, text in encoded.items()}, **saved.sizes}
    return values, sizes


async def session_resume(
    *,
    app: App,
    user: Any,
    session_id: str,
    runtime: ReleaseRuntime,
    fresh: bool,
    visitor: str = "",
    shows_fault_details: bool = True,
) -> tuple[AppSession, bool]:
    """The session a socket joins: its snapshot if there is one, else a fresh one.

    Returns the session and whether the tab must be re-rendered (state restored from an earlier
    page, or carried over to a newer release after a reload). Raises AppUnavailable when a fresh
    state is needed and the app's ``initial_state`` fails.
    """
    info = session_info(session_id=session_id, user=user, app=app, visitor=visitor)
    key = SnapshotKey(app.tenant_id, app.pk, snapshot_owner(user, visitor), session_id)
    saved = await snapshot_load(key)
    # The page the tab shows was rendered from exactly this snapshot: nothing to send again.
    rerender = not (fresh and saved is not None and saved.release == runtime.key and not saved.undecodable)
    if saved is None:
        values, encoded = await fresh_values(app=app, runtime=runtime, info=info)
        await snapshot_replace(key, release=runtime.key, encoded=encoded, ttl=SNAPSHOT_UNCONNECTED_SECONDS)
        sizes = {name: len(text) for name, text in encoded.items()}
    else:
        values, sizes = saved.values, saved.sizes
        # Reloaded onto a newer release, or some values could not be restored (snapshot_load
        # logged which): keep the values there are, the missing keys get their initial values.
        if saved.release != runtime.key or saved.undecodable:
            values, sizes = await _add_missing_keys(app=app, runtime=runtime, info=info, key=key, saved=saved)
    if page_uses_scenarios(runtime.page):  # re-read: the scenarios may have changed while it was away
        rows = await db_call(scenario_summaries)(tenant_id=app.tenant_id, app_id=app.pk)
        if values.get(SCENARIOS_KEY) != rows:
            values[SCENARIOS_KEY], rerender = rows, True
            sizes[SCENARIOS_KEY] = len(encode_values(values, {SCENARIOS_KEY})[SCENARIOS_KEY])
    release = runtime.release

    async def log_sink(lines: list[tuple[str, str]]) -> None:
        await db_call(app_log_append)(
            app_id=app.pk, tenant_id=app.tenant_id, release_id=release.pk, lines=lines
        )

    session = AppSession(
        key=key,
        info=info,
        release_key=runtime.key,
        app=runtime.app,
        page=runtime.page,
        state=SessionState(values),
        value_bytes=sizes,
        executor=get_executor(),
        timeout=handler_timeout(app),
        log_sink=log_sink,
        shows_fault_details=shows_fault_details,
    )
    return session, rerender
