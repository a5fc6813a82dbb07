"""Apps shared with "anyone with the link": no sign-in, no membership, and revocable."""

from __future__ import annotations

import json
import re

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from dashboards.config.asgi import application
from dashboards.runtime.protocol import CLOSE_FORBIDDEN, CLOSE_NOT_SIGNED_IN


def share_counter(live_world, access: str = "link") -> str:
    from dashboards.hosting.models import App

    app = App.objects.get(tenant=live_world.acme, slug="counter")
    app.access = access
    app.save()
    return app.link_token


def visit(token: str, user=None) -> tuple[Client, str]:
    """A browser opening the shared link: its session cookie and the tab's session id."""
    client = Client()
    if user is not None:
        client.force_login(user)
    response = client.get(f"/l/{token}/")
    assert response.status_code == 200, response.status_code
    session_id = re.search(r'data-session-id="([^"]+)"', response.text).group(1)
    return client, session_id


def link_socket(
    token: str, client: Client | None, session_id: str, *, fresh: bool = True
) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if client is not None and client.cookies:  # the browser's cookies: its sign-in, or its visitor id
        cookies = "; ".join(f"{name}={morsel.coded_value}" for name, morsel in client.cookies.items())
        headers.append((b"cookie", cookies.encode()))
    path = f"/ws/l/{token}/?sid={session_id}&fresh={int(fresh)}"
    return WebsocketCommunicator(application, path, headers=headers)


async def click(socket: WebsocketCommunicator, handler: str = "increment") -> str:
    await socket.send_to(text_data=json.dumps({"event": "ui:click", "handler": handler}))
    return await socket.receive_from(timeout=3)


def test_a_shared_app_opens_for_anyone_with_its_link_and_nothing_else_does(world) -> None:
    token = share_counter(world)
    anonymous = Client()
    page = anonymous.get(f"/l/{token}/")
    assert page.status_code == 200 and "Counter" in page.text
    assert 'href="/t/acme/' not in page.text  # a visitor is not shown the tenant's pages
    wrong_last = "y" if token.endswith("x") else "x"  # a token may itself end in "x"
    assert anonymous.get(f"/l/{token[:-1]}{wrong_last}/").status_code == 404
    assert anonymous.get("/l/short/").status_code == 404
    assert anonymous.get("/t/acme/apps/counter/").status_code == 302  # the tenant's own URL: sign in
    outsider = Client()
    outsider.force_login(world.users["gwen"])  # Globex only
    assert outsider.get(f"/l/{token}/").status_code == 200
    assert outsider.get("/t/acme/apps/counter/").status_code == 404


def test_a_link_stops_working_when_the_app_is_no_longer_shared(world) -> None:
    token = share_counter(world, access="members")
    assert Client().get(f"/l/{token}/").status_code == 404


async def test_a_visitor_who_is_not_signed_in_uses_the_app_with_a_state_of_their_own(live_world) -> None:
    token = await sync_to_async(share_counter)(live_world)
    browser, session_id = await sync_to_async(visit)(token)
    tab = link_socket(token, browser, session_id)
    assert (await tab.connect())[0]
    assert ">1<" in await click(tab)
    assert ">2<" in await click(tab)

    other_browser, _ = await sync_to_async(visit)(token)  # the same session id from another browser
    stranger = link_socket(token, other_browser, session_id)
    assert (await stranger.connect())[0]
    assert ">1<" in await _answer(stranger)  # a state of its own, not the first visitor's
    await stranger.disconnect()

    no_cookie = link_socket(token, None, session_id)  # no page was loaded: no visitor id
    assert (await no_cookie.connect())[0]
    assert (await no_cookie.receive_output(timeout=3))["code"] == CLOSE_NOT_SIGNED_IN
    await tab.disconnect()


async def _answer(socket: WebsocketCommunicator) -> str:
    frames = []
    await socket.send_to(text_data=json.dumps({"event": "ui:click", "handler": "increment"}))
    while not await socket.receive_nothing(timeout=0.3):
        frames.append(await socket.receive_from())
    return "".join(frames)


async def test_unsharing_or_resetting_the_link_closes_its_tabs_within_a_second(live_world) -> None:
    from dashboards.hosting.models import App, new_link_token

    token = await sync_to_async(share_counter)(live_world)
    browser, session_id = await sync_to_async(visit)(token)
    tab = link_socket(token, browser, session_id)
    assert (await tab.connect())[0]
    member = await sync_to_async(visit)(token, live_world.users["gwen"])  # signed in, not a member
    signed_in = link_socket(token, member[0], member[1])
    assert (await signed_in.connect())[0]

    def reset_link() -> None:
        app = App.objects.get(pk=App.objects.get(link_token=token).pk)
        app.link_token = new_link_token()
        app.save()

    await sync_to_async(reset_link)()
    for socket in (tab, signed_in):
        output = await socket.receive_output(timeout=1)
        assert output == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


def test_a_shared_app_that_cannot_start_says_so_without_pointing_at_the_tenant(world) -> None:
    from dashboards.hosting.models import App

    app = App.objects.get(tenant=world.acme, slug="counter")
    app.access, app.active_release = "link", None
    app.save()
    page = Client().get(f"/l/{app.link_token}/")
    assert page.status_code == 503 and "no release yet" in page.text
    assert 'href="/t/acme/' not in page.text


def test_visits_of_a_shared_link_leave_no_session_rows(world) -> None:
    """A visitor's id lives in a signed cookie: crawlers and link previews cost no database row."""
    from django.contrib.sessions.models import Session

    token = share_counter(world)
    before = Session.objects.count()
    for _ in range(5):
        response = Client().get(f"/l/{token}/")
        assert response.status_code == 200 and response.cookies["dashboards_visitor"]["httponly"]
    assert Session.objects.count() == before


async def test_a_forged_visitor_cookie_opens_nothing(live_world) -> None:
    token = await sync_to_async(share_counter)(live_world)
    headers = [
        (b"origin", b"http://testserver"),
        (b"host", b"testserver"),
        (b"cookie", b"dashboards_visitor=someone-else"),
    ]
    socket = WebsocketCommunicator(application, f"/ws/l/{token}/?sid=abcdefghijkl&fresh=1", headers=headers)
    assert (await socket.connect())[0]
    assert (await socket.receive_output(timeout=3))["code"] == CLOSE_NOT_SIGNED_IN


async def test_a_visitor_by_link_is_told_of_a_fault_without_the_app_s_insides(lab_app) -> None:
    """Anyone may hold a link: the toast says something went wrong, not the exception's words or
    the handler's name; the app's log has them, and a member's tab still shows them."""
    from dashboards.hosting.models import AppLogEntry

    lab_app.access = "link"
    await sync_to_async(lab_app.save)()
    browser, session_id = await sync_to_async(visit)(lab_app.link_token)
    tab = link_socket(lab_app.link_token, browser, session_id)
    assert (await tab.connect())[0]
    frame = await click(tab, "boom")
    assert "toast-error" in frame
    assert "Something went wrong in this app; its developers have been told." in frame
    assert "on purpose" not in frame and "ValueError" not in frame and "boom" not in frame
    frame = await click(tab, "slow")  # past the app's 1 s limit
    assert "toast-warning" in frame and "That took too long and was stopped" in frame and "slow" not in frame
    frame = await click(tab, "nest")
    assert "Something went wrong in this app" in frame and "cannot be kept" not in frame
    assert ">1<" in await click(tab, "increment")  # the session goes on
    await tab.disconnect()
    messages = await sync_to_async(lambda: list(AppLogEntry.objects.values_list("message", flat=True)))()
    assert any("ValueError: the handler failed on purpose" in m for m in messages)
    assert any("slow: timed out" in m for m in messages)
    assert any("nest: state not kept" in m for m in messages)


BROKEN_TABLE = """
def initial_state(session):
    # Valid when validated; a value the table cannot show once people open it.
    return {"rows": [] if session.username == "validator" else 5}


page = '{% table rows id="t" %}'
"""


async def test_a_shared_link_s_tab_says_a_value_cannot_be_shown_but_not_why(live_world) -> None:
    """Its page and the whole page a reconnect sends: the exception's words stay out (anyone may
    hold the link); a member's page shows them."""
    from tests.support import deploy_test_app

    app = await sync_to_async(deploy_test_app)(live_world.acme, "broken-table", BROKEN_TABLE, access="link")
    browser, session_id = await sync_to_async(visit)(app.link_token)
    page = await sync_to_async(lambda: browser.get(f"/l/{app.link_token}/").text)()
    assert "This table cannot show its value.</span>" in page
    reconnect = link_socket(app.link_token, browser, session_id, fresh=False)
    assert (await reconnect.connect())[0]
    assert "This table cannot show its value.</span>" in await reconnect.receive_from(timeout=3)
    await reconnect.disconnect()

    def member_page() -> str:
        member = Client()
        member.force_login(live_world.users["avery"])
        return member.get("/t/acme/apps/broken-table/").text

    assert "This table cannot show its value: " in await sync_to_async(member_page)()
