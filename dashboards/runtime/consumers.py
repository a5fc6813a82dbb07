"""The WebSocket consumer of one browser tab. It authorises, then hands every event to its session."""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from dashboards.events.event import Event
from dashboards.events.hub import get_hub
from dashboards.runtime import access, shutdown
from dashboards.runtime.db import db_call
from dashboards.runtime.end_toasts import HeldEndToasts
from dashboards.runtime.frames import render_commands, toast_command
from dashboards.runtime.groups import (
    app_group,
    channel_join,
    channel_leave,
    inbox_group,
    login_group,
    tab_group,
    user_group,
)
from dashboards.runtime.limits import (
    END_TOAST_HOLD_SLACK_SECONDS,
    EVENT_BURST,
    EVENT_QUEUE_LIMIT,
    EVENTS_PER_SECOND,
    TAB_TASKS_END_SECONDS,
)
from dashboards.runtime.protocol import (
    CLOSE_APP_BROKEN,
    CLOSE_FORBIDDEN,
    CLOSE_INTERNAL_ERROR,
    CLOSE_NOT_SIGNED_IN,
    CLOSE_SERVICE_RESTART,
    CLOSE_TOO_MANY_EVENTS,
    CLOSE_TOO_MANY_TABS,
    CLOSE_UNKNOWN_APP,
)
from dashboards.runtime.ratelimit import TokenBucket
from dashboards.runtime.recheck import recheck_access_periodically
from dashboards.runtime.services import (
    AppUnavailable,
    ReleaseRuntime,
    release_runtime,
    residency,
    session_resume,
    snapshot_owner,
)
from dashboards.runtime.session import AppSession
from dashboards.runtime.session_events import (
    session_follows_events,
    session_on_event,
    session_resync,
    session_wants_event,
)
from dashboards.runtime.snapshots import SnapshotKey, snapshot_flush, snapshot_release_sync

if TYPE_CHECKING:
    from dashboards.hosting.models import App

logger = logging.getLogger(__name__)
FLOOD_WARNING_EVERY_SECONDS = 5.0  # one "slow down" toast per this many seconds of flooding
# A tab's session id as services.new_session_id makes them (URL-safe base64). It names a Redis key
# and a channel-layer group, whose names allow these characters only: anything else is refused.
SESSION_ID = re.compile(r"\A[A-Za-z0-9_-]{8,64}\Z")
_open_tabs_per_user: collections.Counter[int | str] = collections.Counter()  # by user id or link visitor


class AppSessionConsumer(AsyncWebsocketConsumer):
    session: AppSession | None = None
    counted_user: int | str | None = None
    tab_group_name = ""  # where this tab's jobs report (runtime.groups.tab_group), once open
    end_toasts: HeldEndToasts | None = None  # team toasts of its jobs' ends, once open
    user_id: int | None = None  # once authorised; None for a link visitor who is not signed in
    # Whether access is read once more after the groups are joined: needed where news of a change
    # comes through a group joined only once the check has named the app (link sockets).
    recheck_after_join = False
    # Whether its toasts tell a fault of the app's code with the details (AppSession): members do.
    shows_fault_details = True

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' own, less its ``aclose_old_connections()`` before every message.

        That call is a hop to Channels' one shared sync thread and back (two thread wake-ups per
        click) to tidy that thread's database connection, which this consumer never uses: its
        queries go through ``db_call``, whose threads look after their own connections.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        """Authorise and restore the session first; only then accept, so the tab is ready when open."""
        self.session = None
        self.groups_joined: list[str] = []
        # Browser messages (text) and the platform's own work for this tab (status functions), in order.
        self.queue: asyncio.Queue[str | Callable[[], Awaitable[str]]] = asyncio.Queue(EVENT_QUEUE_LIMIT)
        self.waiting_puts: set[asyncio.Task[None]] = set()  # kept work waiting for room in the queue
        self.closing = False
        self.bucket = TokenBucket(EVENTS_PER_SECOND, EVENT_BURST)
        self.flood_warned_at = -FLOOD_WARNING_EVERY_SECONDS
        query = _query(self.scope.get("query_string", b""))
        user = self.scope.get("user")
        visitor = await self._visitor(user)
        if visitor is None:
            await self._refuse(CLOSE_NOT_SIGNED_IN)
            return
        user_id: int | None = user.pk if user is not None and user.is_authenticated else None
        counted = user_id if user_id is not None else f"link:{visitor}"
        tabs_allowed = settings.TABS_PER_USER  # runtime/limits.py, or the environment's
        if _open_tabs_per_user[counted] >= tabs_allowed:
            logger.warning("%s: a tab refused, %d already open in this process", counted, tabs_allowed)
            await self._refuse(CLOSE_TOO_MANY_TABS)
            return
        _open_tabs_per_user[counted] += 1  # counted from here, so that tabs opening at once are too
        self.counted_user = counted
        session_id = query.get("sid") or ""
        if not SESSION_ID.match(session_id):
            await self._refuse(CLOSE_FORBIDDEN)
            return
        try:
            # Before the check: a change of access committed after it is then heard (its message
            # waits until connect returns), and one committed before it is read by it.
            await self._join(*self._groups_hearing_of_access(user_id))
            app, rerender = await self._authorise_and_resume(user, visitor, user_id, session_id, query)
        except AppUnavailable:  # its initial_state failed; the app's log says how
            await self._refuse(CLOSE_APP_BROKEN)
            return
        except Exception:  # the database or Redis away: closed as an internal error, which reconnects
            logger.exception("session %s: the tab could not be opened", session_id)
            await self._refuse(CLOSE_INTERNAL_ERROR)  # its disconnect gives the tab's count back
            return
        if app is None or self.session is None:
            return  # refused
        residency.hold(self.session.release_key)  # its code stays loaded while the tab is open
        try:
            await self._open(app, user, session_id, rerender)
        except BaseException:
            # Channels never calls disconnect for a connect that raised: undo what was taken
            # (the release's hold, groups, the hub's subscription), then let the socket close.
            try:
                await self.disconnect(CLOSE_INTERNAL_ERROR)
            except Exception:
                logger.exception("session %s: a failed connect could not be undone", session_id)
            raise

    async def _authorise_and_resume(
        self, user: Any, visitor: str, user_id: int | None, session_id: str, query: dict[str, str]
    ) -> tuple[App | None, bool]:
        """The app and whether the tab must be re-rendered; (None, False) once refused."""
        # One call on a pool thread (not Channels' one shared sync thread, which page views and
        # static files queue on): the right to open the app, then its release's loaded code.
        decision, runtime = await db_call(self._authorise_and_load)(
            user=user, visitor=visitor, release_id=query.get("release"), session_id=session_id
        )
        app = decision.app
        if decision.close_code or app is None:
            await self._refuse(decision.close_code or CLOSE_UNKNOWN_APP)
            return None, False
        if runtime is None:
            await self._refuse(CLOSE_APP_BROKEN)
            return None, False
        self.app_id, self.user_id = app.pk, user_id
        self.release_version = runtime.release.version
        self.session, rerender = await session_resume(
            app=app, user=user, session_id=session_id, runtime=runtime, fresh=query.get("fresh") == "1",
            visitor=visitor, shows_fault_details=self.shows_fault_details,
        )  # fmt: skip
        return app, rerender

    def _groups_hearing_of_access(self, user_id: int | None) -> list[str]:
        """The groups that bring news of a change to this socket's access: its user's, its sign-in's."""
        groups = [user_group(user_id)] if user_id is not None else []
        session_key = self._session_key()
        if session_key:
            groups.append(login_group(session_key))
        return groups

    async def _visitor(self, user: Any) -> str | None:
        """Who opens the socket: "" for a signed-in user, None (refused) for anyone else."""
        return "" if user is not None and user.is_authenticated else None

    def _authorise(self, user: Any) -> access.SocketDecision:
        """On a pool thread: may this socket open its app."""
        kwargs = self.scope["url_route"]["kwargs"]
        return access.authorise_socket(
            user=user, tenant_slug=kwargs["tenant_slug"], app_slug=kwargs["app_slug"]
        )

    def _authorise_and_load(
        self, *, user: Any, visitor: str, release_id: str | None, session_id: str
    ) -> tuple[access.SocketDecision, ReleaseRuntime | None]:
        """On a pool thread: may this socket open its app, and on which release (loaded)."""
        decision = self._authorise(user)
        app = decision.app
        if decision.close_code or app is None:
            return decision, None
        key = SnapshotKey(app.tenant_id, app.pk, snapshot_owner(user, visitor), session_id)
        release = access.release_for_tab(app, release_id, lambda: snapshot_release_sync(key))
        if release is None:
            return access.SocketDecision(CLOSE_UNKNOWN_APP), None
        decision = access.SocketDecision(None, app=app, release=release)
        try:
            return decision, release_runtime(release)
        except AppUnavailable:
            return decision, None

    async def _open(self, app: App, user: Any, session_id: str, rerender: bool) -> None:
        assert self.session is not None
        # Its jobs report to the tab's group, named by its id as the session knows it (a link
        # visitor's is bound to their browser: services.visitor_tab_id).
        self.tab_group_name = tab_group(app.pk, self.user_id, self.session.info.session_id)
        groups = [app_group(app.pk), self.tab_group_name]
        if self.user_id is not None:  # a link visitor who is not signed in has no user, no inbox
            groups.append(inbox_group(self.user_id))
        await self._join(*groups)  # those that bring news of access were joined before the check
        self.hub = get_hub()
        self.hub.keep_joined(self.channel_name, self.groups_joined)
        self.tenant_id = app.tenant_id
        self.listener = self._on_event if session_follows_events(self.session) else None
        if self.listener is not None:
            await self.hub.subscribe(self.tenant_id, self.listener)
        self.worker = asyncio.create_task(self._work())
        shutdown.track(self)
        await self.accept()
        if rerender:
            await self.send(text_data=await self.session.full_frame())
        self.session.jobs.post = self._post
        self.end_toasts = HeldEndToasts(
            show_later=lambda toast: self._post(lambda: _frame_of(toast)),
            hold_seconds=self.session.timeout + END_TOAST_HOLD_SLACK_SECONDS,
        )
        self.session.jobs.end_told = self.end_toasts.end_told
        # Not awaited: the tab's first event need not wait for this query. What it finds (status
        # functions of jobs that ended meanwhile) is queued behind the events then waiting.
        self.resuming = asyncio.create_task(self._resume_jobs())
        self.rechecking = recheck_access_periodically(
            lambda: self.access_changed({}), f"session {self.session.info.session_id}"
        )

    async def _resume_jobs(self) -> None:
        assert self.session is not None
        try:
            if self.recheck_after_join:
                # A change between the check at connect and the joining of the group that hears
                # of it was heard by no one: checked once more now it is joined.
                await self.access_changed({})
            if self.closing:  # it may no longer: its jobs' ends wait on their rows for its next socket
                return
            await self.session.jobs.resume()
        except Exception:  # the database away: the Jobs page and notifications still have the ends
            logger.exception("session %s: its jobs could not be resumed", self.session.info.session_id)

    async def _refuse(self, code: int) -> None:
        # Accepted, then closed: the browser sees our close code (a refused handshake is a bare 403).
        await self.accept()
        await self.close(code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.session is None:
            return
        if not self.bucket.allow():  # every frame counts, binary ones too: each is answered
            now = time.monotonic()
            if now - self.flood_warned_at >= FLOOD_WARNING_EVERY_SECONDS:
                self.flood_warned_at = now
                logger.warning("session %s: too many events, dropping", self.session.info.session_id)
                await self.send(
                    text_data=render_commands([toast_command("warning", "Too many events: slow down.")])
                )
            return
        if text_data is None:
            logger.info("session %s: binary message dropped", self.session.info.session_id)
            await self.send(
                text_data=render_commands([toast_command("error", "Binary messages are not accepted.")])
            )
            return
        try:
            self.queue.put_nowait(text_data)
        except asyncio.QueueFull:
            await self.close(CLOSE_TOO_MANY_EVENTS)

    async def _work(self) -> None:
        """Events of one tab run one at a time, in the order they were sent."""
        assert self.session is not None
        while True:
            item = await self.queue.get()
            try:
                frame = await (self.session.handle_text(item) if isinstance(item, str) else item())
                if frame:
                    await self.send(text_data=frame)
            except (Exception, asyncio.CancelledError) as error:
                # A frame that cannot be sent too: never a tab that silently stops. A CancelledError
                # is the tab closing only when this task was cancelled; any other one is a fault.
                current = asyncio.current_task()
                if isinstance(error, asyncio.CancelledError) and current is not None and current.cancelling():
                    raise
                logger.exception("session %s: internal error", self.session.info.session_id)
                await self.close(CLOSE_INTERNAL_ERROR)
                return

    def _post(self, work: Callable[[], Awaitable[str]], keep: bool = False) -> bool:
        """Queue the platform's own work for this tab behind the events already waiting; whether
        it will run.

        With the queue full, work that must not be lost (a job's end: its status function runs
        once) waits for room; other work (an event's reaction, a progress report) is dropped. A
        closing tab takes nothing more (what it leaves stays on the rows for its next socket).
        """
        if self.closing:
            return False
        try:
            self.queue.put_nowait(work)
        except asyncio.QueueFull:
            if keep:
                waiting = asyncio.get_running_loop().create_task(self.queue.put(work))
                self.waiting_puts.add(waiting)
                waiting.add_done_callback(self.waiting_puts.discard)
                return True
            logger.warning(
                "session %s: queue full, job update dropped", self.session and self.session.info.session_id
            )
            return False
        return True

    def _on_event(self, event: Event | None) -> None:
        """From this process's events hub (on the loop): the session's work waits in its queue."""
        session = self.session
        if session is None:
            return
        if event is None:  # events may have been missed (Redis came back): re-read what is shown
            self._post(lambda: session_resync(session))
        elif session_wants_event(session, event):
            self._post(lambda: session_on_event(session, event))

    async def disconnect(self, code: int) -> None:
        counted = getattr(self, "counted_user", None)
        if counted is not None:  # once, even if a failed connect's undoing called this already
            self.counted_user = None
            _open_tabs_per_user[counted] -= 1
            if _open_tabs_per_user[counted] <= 0:
                del _open_tabs_per_user[counted]
        shutdown.forget(self)
        hub = getattr(self, "hub", None)
        if hub is not None:
            hub.forget(self.channel_name)
            if getattr(self, "listener", None) is not None:
                await hub.unsubscribe(self.tenant_id, self.listener)
        if self.session is not None:
            self.session.jobs.close()
            residency.let_go(self.session.release_key)
        if self.end_toasts is not None:
            self.end_toasts.close()
        self.closing = True
        ending = []
        tasks = (
            getattr(self, "worker", None),
            getattr(self, "resuming", None),
            getattr(self, "rechecking", None),
        )
        for task in tasks:
            if task is not None:
                task.cancel()
                ending.append(task)
        for waiting in list(getattr(self, "waiting_puts", ())):
            waiting.cancel()  # the ends stay on their rows: the tab that comes back delivers them
            ending.append(waiting)
        if ending:  # seen to their end (briefly): a shutdown then finds no task of this tab pending
            await asyncio.wait(ending, timeout=TAB_TASKS_END_SECONDS)
        if self.session is not None:
            await self.session.finish_writes()
            # Its last changes wait in this process's write batch (up to 50 ms): a browser that
            # reconnects to another process at once read the state from before them.
            try:
                await asyncio.wait_for(snapshot_flush(), TAB_TASKS_END_SECONDS)
            except Exception as error:
                logger.warning(
                    "session %s: its last changes not saved yet (%s)", self.session.info.session_id, error
                )
        await channel_leave(self.channel_layer, self.channel_name, getattr(self, "groups_joined", []))

    async def _join(self, *groups: str) -> None:
        """All at once: one Redis round trip, not two per group."""
        self.groups_joined.extend(groups)  # first: if the join fails, disconnect leaves them all
        await channel_join(self.channel_layer, self.channel_name, groups)

    # --- messages from the rest of the platform ---
    async def release_activated(self, event: dict[str, Any]) -> None:
        version, mine = event["version"], getattr(self, "release_version", None)
        if version == mine:
            return  # this tab runs it already
        if mine is not None and version < mine:
            message = f"This app was rolled back to version {version}: reload the page to use it."
        else:
            message = f"Version {version} of this app is available: reload the page to use it."
        await self.send(text_data=render_commands([toast_command("info", message, duration=0)]))

    async def access_changed(self, event: dict[str, Any]) -> None:
        if self.user_id is None or self.session is None:  # refused, or never opened: nothing to close
            return
        code = await db_call(self._access_lost)(user_id=self.user_id)
        if code is not None:
            await self._close_for(code)

    def _access_lost(self, *, user_id: int) -> int | None:
        """On a pool thread: the close code for a user who may no longer hold this socket, or None."""
        user = access.active_user(user_id=user_id)  # read once for both checks
        if user is None or not access.still_allowed(user_id=user_id, app_id=self.app_id, user=user):
            return CLOSE_FORBIDDEN
        if not access.still_signed_in(user_id=user_id, session_key=self._session_key(), user=user):
            return CLOSE_SERVICE_RESTART  # reconnects with the sign-in the browser has now, checked afresh
        return None

    def _session_key(self) -> str | None:
        session = self.scope.get("session")
        return session.session_key if session is not None else None

    async def link_changed(self, event: dict[str, Any]) -> None:
        """The app's sharing changed: only sockets opened through its link care (LinkSessionConsumer)."""

    async def login_ended(self, event: dict[str, Any]) -> None:
        await self._close_for(CLOSE_NOT_SIGNED_IN)

    async def _close_for(self, code: int) -> None:
        """Access lost: no more of the platform's work for this tab (a job's status function, say)."""
        self.closing = True
        await self.close(code)

    async def job_progress(self, event: dict[str, Any]) -> None:
        if self.session is not None:
            self.session.jobs.note_progress(
                int(event["job_id"]), event.get("progress"), str(event.get("message", ""))
            )

    async def job_ended(self, event: dict[str, Any]) -> None:
        if self.session is not None:
            jobs = self.session.jobs
            self._post(lambda: jobs.ended(int(event["job_id"]), event), True)

    async def notify_toast(self, event: dict[str, Any]) -> None:
        """A team notification (already rendered: toast and inbox badge as out-of-band swaps).

        A notification that names this tab as ``except_tab`` is news the tab may tell itself (the
        end of a job it started, through its status function): the badge at once, the toast only
        if the status function showed none (``runtime.end_toasts``).
        """
        if (
            self.end_toasts is not None
            and self.tab_group_name
            and event.get("except_tab") == self.tab_group_name
            and isinstance(event.get("job_id"), int)
        ):
            toast = self.end_toasts.team_toast(event["job_id"], str(event.get("toast", "")))
            await self.send(text_data=toast + str(event.get("badge", "")))
            return
        await self.send(text_data=event["html"])


async def _frame_of(html: str) -> str:
    return html


def _query(raw: bytes) -> dict[str, str]:
    """The socket's query parameters, the last of each name; bytes that are not UTF-8 never raise."""
    return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}


class LinkSessionConsumer(AppSessionConsumer):
    """A tab of an app shared with "anyone with the link" (``/ws/l/<token>/``): signed in or not,
    member of the app's tenant or not. It stays open while the app is shared through this link."""

    recheck_after_join = True  # news of the link comes through the app's group, joined after the check
    shows_fault_details = False  # anyone may hold the link: faults are told without the app's insides

    async def _visitor(self, user: Any) -> str | None:
        if user is not None and user.is_authenticated:
            return ""
        # The id the link's page gave this browser: without it no saved state is theirs.
        return access.link_visitor_of(self.scope.get("cookies") or {}) or None

    def _authorise(self, user: Any) -> access.SocketDecision:
        return access.authorise_link_socket(token=self.scope["url_route"]["kwargs"]["token"])

    def _access_lost(self, *, user_id: int) -> int | None:
        """A signed-in visitor's membership does not matter here; their sign-in does (the tab acts
        as them: its jobs, its inbox)."""
        user = access.active_user(user_id=user_id)
        if user is None or not access.still_signed_in(
            user_id=user_id, session_key=self._session_key(), user=user
        ):
            return CLOSE_SERVICE_RESTART  # reconnects with the sign-in the browser has now, checked afresh
        token = self.scope["url_route"]["kwargs"]["token"]
        return None if access.still_shared(app_id=self.app_id, token=token) else CLOSE_FORBIDDEN

    async def access_changed(self, event: dict[str, Any]) -> None:
        if self.user_id is not None:
            await super().access_changed(event)
        else:
            await self.link_changed(event)

    async def link_changed(self, event: dict[str, Any]) -> None:
        if self.session is None:  # refused, or never opened: nothing to close
            return
        token = self.scope["url_route"]["kwargs"]["token"]
        if not await db_call(access.still_shared)(app_id=self.app_id, token=token):
            await self._close_for(CLOSE_FORBIDDEN)
