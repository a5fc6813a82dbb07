"""A socket lives as long as the sign-in and the access it was opened with, however they end."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from dashboards.config.asgi import application
from dashboards.runtime.protocol import CLOSE_FORBIDDEN, CLOSE_SERVICE_RESTART
from tests.runtime.conftest import app_socket, click, open_page, open_socket, signed_in_cookie
from tests.support import deploy_test_app

SAME_SITE = [(b"origin", b"http://testserver"), (b"host", b"testserver")]

SLOW_START_SOURCE = '''
import time

page = """{% metric count label="Count" id="count" %}"""


def initial_state(session):
    time.sleep(1.0)
    return {"count": 0}


def increment(state):
    state.count += 1
'''


def _cookie_of(tab) -> str:
    return tab.socket.scope["headers"][0][1].decode().split("=", 1)[1]


async def _closed_code(socket: WebsocketCommunicator, timeout: float = 1.5) -> int | None:
    while not await socket.receive_nothing(timeout=timeout):
        output = await socket.receive_output()
        if output["type"] == "websocket.close":
            return output["code"]
    return None


async def test_access_removed_while_the_socket_connects_closes_it(live_world) -> None:
    """The removal's message went out before the socket joined the groups that hear it."""
    await sync_to_async(deploy_test_app)(
        live_world.acme, "slow-start", SLOW_START_SOURCE, handler_timeout_seconds=5
    )
    cookie = await sync_to_async(signed_in_cookie)(live_world.avery)
    socket = WebsocketCommunicator(
        application, "/ws/t/acme/apps/slow-start/?sid=connecting-while-removed&fresh=1",
        headers=[(b"cookie", f"sessionid={cookie}".encode()), *SAME_SITE],
    )  # fmt: skip
    connecting = asyncio.ensure_future(socket.connect(timeout=10))
    await asyncio.sleep(0.4)  # authorised; its initial_state is running

    def remove_avery() -> None:
        from dashboards.tenancy import services
        from dashboards.tenancy.models import Membership

        membership = Membership.objects.get(tenant=live_world.acme, user=live_world.avery)
        services.membership_remove(membership=membership, actor=services.SYSTEM)

    await sync_to_async(remove_avery)()
    assert (await connecting)[0]
    assert await _closed_code(socket) == CLOSE_FORBIDDEN


async def test_access_removed_just_after_the_check_at_connect_closes_the_socket(
    live_world, monkeypatch
) -> None:
    """The window between reading access and joining the groups that hear of changes: a removal
    committed there is heard, as the groups are joined before the check."""
    from dashboards.runtime.consumers import AppSessionConsumer

    check = AppSessionConsumer._authorise_and_load

    def check_then_remove(self, **kwargs):
        decision = check(self, **kwargs)
        from dashboards.tenancy import services
        from dashboards.tenancy.models import Membership

        membership = Membership.objects.get(tenant=live_world.acme, user=live_world.avery)
        services.membership_remove(membership=membership, actor=services.SYSTEM)
        return decision

    monkeypatch.setattr(AppSessionConsumer, "_authorise_and_load", check_then_remove)
    cookie, session_id, release_id, _ = await sync_to_async(open_page)(live_world.avery, "acme", "counter")
    socket = app_socket(cookie, "acme", "counter", session_id=session_id, release_id=release_id, fresh=True)
    assert (await socket.connect())[0]
    assert await _closed_code(socket) == CLOSE_FORBIDDEN


async def test_opening_a_tab_reads_its_access_once(live_world, table_reads) -> None:
    """Its access was read a second time after every connect (four more queries per tab, on the
    way of its first click and of every reconnect after a restart), to cover the window above."""
    cookie, session_id, release_id, _ = await sync_to_async(open_page)(live_world.avery, "acme", "counter")
    table_reads.clear()  # the page's own
    socket = app_socket(cookie, "acme", "counter", session_id=session_id, release_id=release_id, fresh=True)
    assert (await socket.connect())[0]
    assert await socket.receive_nothing(timeout=0.5)  # what runs after the accept has run
    await socket.disconnect()
    assert table_reads("django_session", "auth_user", "tenancy_membership", "hosting_app") == {
        "django_session": 1, "auth_user": 1, "tenancy_membership": 1, "hosting_app": 1,
    }  # fmt: skip


async def test_a_password_changed_elsewhere_closes_the_tab_and_its_reconnect_is_signed_out(
    live_world,
) -> None:
    tab = await open_socket(live_world.avery)

    def change_password() -> None:
        user = type(live_world.avery).objects.get(pk=live_world.avery.pk)
        user.set_password("a-brand-new-password-42")
        user.save()

    await sync_to_async(change_password)()
    assert await _closed_code(tab.socket) == CLOSE_SERVICE_RESTART  # the browser reconnects...
    again = WebsocketCommunicator(
        application, "/ws/t/acme/apps/counter/?sid=reconnecting-tab-1&fresh=0",
        headers=[(b"cookie", f"sessionid={_cookie_of(tab)}".encode()), *SAME_SITE],
    )  # fmt: skip
    assert (await again.connect())[0]
    assert (await again.receive_output(timeout=5))["code"] == 4401  # ...and is no longer signed in


async def test_another_user_signing_in_on_that_browser_closes_the_first_users_tabs(live_world) -> None:
    from django.contrib.auth import login
    from django.test import RequestFactory

    from dashboards.runtime.browser_sessions import SessionStore  # the SESSION_ENGINE

    tab = await open_socket(live_world.avery)

    def adam_signs_in() -> None:  # without signing avery out: Django flushes the session
        request = RequestFactory().post("/accounts/login/")
        request.session = SessionStore(session_key=_cookie_of(tab))
        request.user = live_world.avery
        login(request, live_world.adam, backend="django.contrib.auth.backends.ModelBackend")

    await sync_to_async(adam_signs_in)()
    assert await _closed_code(tab.socket) == CLOSE_SERVICE_RESTART


async def test_a_sign_in_of_the_same_user_elsewhere_leaves_the_tab_open(live_world) -> None:
    tab = await open_socket(live_world.avery)
    await sync_to_async(signed_in_cookie)(live_world.avery)
    assert await _closed_code(tab.socket, timeout=0.5) is None
    assert ">1<" in await click(tab, "increment")


async def test_a_deactivated_user_loses_a_signed_in_link_tab(live_world) -> None:
    from tests.runtime.test_link_sharing import click as link_click
    from tests.runtime.test_link_sharing import link_socket, share_counter, visit

    token = await sync_to_async(share_counter)(live_world)
    browser, session_id = await sync_to_async(visit)(token, live_world.users["gwen"])  # Globex only
    tab = link_socket(token, browser, session_id)
    assert (await tab.connect())[0]
    assert ">1<" in await link_click(tab)

    def deactivate_gwen() -> None:
        type(live_world.avery).objects.filter(username="gwen").update(is_active=False)
        user = type(live_world.avery).objects.get(username="gwen")
        user.save()  # what the admin does: the save is what tells the sockets

    await sync_to_async(deactivate_gwen)()
    assert await _closed_code(tab) == CLOSE_SERVICE_RESTART


async def test_a_sign_in_that_expires_closes_the_tab_at_the_next_look(live_world, monkeypatch) -> None:
    """An expiry sends no message: every socket looks again every few minutes (here 0.2 s)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from dashboards.runtime import recheck

    monkeypatch.setattr(recheck, "ACCESS_RECHECK_SECONDS", 0.2)
    tab = await open_socket(live_world.avery)
    assert await _closed_code(tab.socket, timeout=0.5) is None  # looked, and stays

    def expire() -> None:  # as time would: no signal, no message
        Session.objects.filter(session_key=_cookie_of(tab)).update(expire_date=timezone.now())

    await sync_to_async(expire)()
    assert await _closed_code(tab.socket, timeout=1.0) == CLOSE_SERVICE_RESTART


def test_expired_sessions_are_still_cleared_in_bulk() -> None:
    """A post_delete receiver on sessions turns off Django's fast delete: clearsessions loaded and
    signalled every expired session, one by one."""
    from django.contrib.sessions.models import Session
    from django.db.models.signals import post_delete, pre_delete

    assert not post_delete.has_listeners(Session) and not pre_delete.has_listeners(Session)


def test_an_edit_that_leaves_who_may_open_an_app_alone_asks_no_socket_to_check(
    world, django_capture_on_commit_callbacks
) -> None:
    """Every open tab and live page of the tenant read their access again on any save of an app
    (a new description), a query each and every topic of every page rendered again."""
    from dashboards.hosting.models import App, AppAccess

    app = App.objects.get(tenant=world.acme, slug="counter")
    with django_capture_on_commit_callbacks() as told:
        app.description = "Now with a better description."
        app.handler_timeout_seconds = 20
        app.save()
    assert rechecks(told) == []
    with django_capture_on_commit_callbacks() as told:
        app.access = AppAccess.TEAMS
        app.save()
    assert len(rechecks(told)) == 2  # the tenant's members, and the sockets of its link
    with django_capture_on_commit_callbacks() as told:
        app.save()  # saved again as it is now
    assert rechecks(told) == []
    with django_capture_on_commit_callbacks() as told:
        app.save(update_fields=["description"])
    assert rechecks(told) == []

    # Read when it was open to teams; opened to all members meanwhile, elsewhere; then closed to
    # teams again through the old read: the change is the database's, whatever the instance holds.
    stale = App.objects.get(pk=app.pk)
    App.objects.filter(pk=app.pk).update(access=AppAccess.MEMBERS)
    stale.refresh_from_db(fields=["description"])
    with django_capture_on_commit_callbacks() as told:
        stale.save()
    assert len(rechecks(told)) == 2


def test_a_new_link_closes_the_tabs_opened_through_the_old_one(
    world, django_capture_on_commit_callbacks
) -> None:
    from dashboards.hosting.models import App
    from dashboards.hosting.services import app_reset_link

    app = App.objects.get(tenant=world.acme, slug="counter")
    with django_capture_on_commit_callbacks() as told:
        app_reset_link(app=app)
    assert len(rechecks(told)) == 2


def rechecks(callbacks: list) -> list:
    """The callbacks on commit that ask sockets to check their access (not the app's events)."""
    return [callback for callback in callbacks if "_recheck_" in callback.__qualname__]
