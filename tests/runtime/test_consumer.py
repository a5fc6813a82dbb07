"""The tab's consumer, over a real channel layer and Redis, through the real ASGI stack."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from dashboards.config.asgi import application
from dashboards.runtime.protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_SIGNED_IN,
    CLOSE_TOO_MANY_TABS,
    CLOSE_UNKNOWN_APP,
)
from tests.runtime.conftest import app_socket, click, component_ids, open_page, open_socket, signed_in_cookie
from tests.support import deploy_test_app


async def test_a_click_runs_the_handler_and_sends_only_the_changed_component(live_world) -> None:
    tab = await open_socket(live_world.avery)
    frame = await click(tab, "increment", target="add")
    assert component_ids(frame) == ["count"]
    assert ">1<" in frame and 'hx-swap-oob="true"' in frame
    frame = await click(tab, "increment")
    assert ">2<" in frame
    assert await tab.socket.receive_nothing(timeout=0.1)
    await tab.socket.disconnect()


async def test_typing_updates_what_reads_the_value_but_not_the_input_itself(live_world) -> None:
    tab = await open_socket(live_world.avery)
    frame = await click(tab, "set_name", event="ui:change", payload="Ada", target="name")
    assert component_ids(frame) == ["greeting"]
    assert "Hello, Ada!" in frame
    await tab.socket.disconnect()


async def test_two_tabs_keep_their_own_state(live_world) -> None:
    first, second = await open_socket(live_world.avery), await open_socket(live_world.avery)
    await click(first, "increment")
    await click(first, "increment")
    assert ">1<" in await click(second, "increment")
    await first.socket.disconnect()
    await second.socket.disconnect()


async def test_a_reconnecting_tab_gets_its_state_back(live_world) -> None:
    tab = await open_socket(live_world.avery)
    await click(tab, "increment")
    await click(tab, "increment")
    await tab.socket.disconnect()
    again = await open_socket(live_world.avery, session_id=tab.session_id, fresh=False)
    frame = await again.socket.receive_from(timeout=5)  # the restored state, every component
    assert "count" in component_ids(frame) and ">2<" in frame
    assert ">3<" in await click(again, "increment")
    await again.socket.disconnect()


async def test_a_session_id_of_another_user_opens_nothing_of_theirs(live_world) -> None:
    tab = await open_socket(live_world.avery)
    await click(tab, "increment")
    intruder = await open_socket(live_world.alice, session_id=tab.session_id, fresh=False)
    frame = await intruder.socket.receive_from(timeout=5)
    assert ">0<" in frame  # a fresh session of alice's own, not avery's count of 1
    await tab.socket.disconnect()
    await intruder.socket.disconnect()


async def test_bad_events_get_a_clear_error_and_the_session_goes_on(live_world) -> None:
    tab = await open_socket(live_world.avery)
    for message, text in [
        ("{not json", "malformed JSON"),
        ("[" * 30_000 + "]" * 30_000, "malformed JSON"),  # deeper than Python's JSON decoder goes
        (json.dumps({"event": "ui:click", "handler": "_private"}), "Unknown handler"),
        (json.dumps({"event": "ui:click", "handler": "nope"}), "Unknown handler"),
        (json.dumps({"event": "click"}), "namespace:event-name"),
        (json.dumps({"event": "dashboards:toast"}), "not an event the browser may send"),
        (json.dumps([1, 2]), "Malformed message"),
        # fields of the wrong type, or too long to show back whole
        (json.dumps({"event": "ui:click\n", "handler": "increment"}), "namespace:event-name"),
        (json.dumps({"event": "ui:click", "handler": 5}), "handler must be a string"),
        (json.dumps({"event": "ui:click"}), "The ui:click event names no handler"),
        (json.dumps({"event": "ui:click", "handler": "increment", "repeat_key": [1]}), "repeat_key must be"),
        (json.dumps({"event": "ui:click", "handler": "x" * 60_000}), "Unknown handler &#x27;xxx"),
        # not plain JSON: such values could not be kept in the state, nor a frame echoing them sent
        ('{"event": "ui:click", "handler": "increment", "payload": NaN}', "NaN is not a JSON number"),
        ('{"event": "ui:click", "handler": "increment", "payload": -Infinity}', "not a JSON number"),
        ('{"event": "ui:click", "handler": "increment", "payload": 1e400}', "a number out of range"),
        ('{"event": "ui:click", "handler": "increment", "payload": ' + "9" * 5000 + "}", "out of range"),
        ('{"event": "ui:change", "handler": "set_name", "payload": "\\ud800"}', "unpaired surrogate"),
        ('{"event": "ui:change", "handler": "set_name", "payload": {"\\udfff": 1}}', "unpaired surrogate"),
        (json.dumps({"event": "ui:change", "handler": "set_name", "payload": "a\x00b"}), "a NUL character"),
    ]:
        await tab.socket.send_to(text_data=message)
        frame = await tab.socket.receive_from(timeout=5)
        assert 'class="toast toast-error"' in frame and text in frame, frame
        assert len(frame) < 1000 and frame.encode("utf-8")  # short, and a frame a server can send
    assert ">1<" in await click(tab, "increment")  # none of them ran a handler
    frame = await click(tab, "set_name", event="ui:change", payload="Ada \ud83d\ude00")  # a pair: one emoji
    assert "Hello, Ada \U0001f600!" in frame
    await tab.socket.disconnect()


async def test_binary_frames_count_against_the_rate_limit(live_world) -> None:
    tab = await open_socket(live_world.avery)
    for _ in range(900):
        await tab.socket.send_to(bytes_data=b"\x00")
    frames = []
    while not await tab.socket.receive_nothing(timeout=0.5):
        frames.append(await tab.socket.receive_from())
    assert "Binary messages are not accepted" in frames[0]
    assert sum("Too many events" in frame for frame in frames) == 1
    assert len(frames) < 900  # the excess was dropped, not each answered with a toast
    await tab.socket.disconnect()


SHOWN_SOURCE = '''
initial_state = {"rows": [{"a": 1}], "items": ["zero", "one"], "places": {"eu-west": "Dublin"}, "seen": ""}
page = """
{% table rows id="rows" %}
{% text seen id="seen" %}
{% repeat items as item %}{% button "Pick" on_click="which" id="item" %}{% endrepeat %}
{% repeat places as place %}{% button "Pick" on_click="which" id="place" %}{% endrepeat %}
"""


def set_rows(state, payload):
    state.rows = payload


def which(state, context):
    state.seen = f"{context['repeat_key']}={context['repeat_value']}"
'''


async def test_state_the_page_cannot_show_is_undone_and_the_session_goes_on(live_world) -> None:
    await sync_to_async(deploy_test_app)(live_world.acme, "shown", SHOWN_SOURCE)
    tab = await open_socket(live_world.avery, app="shown")
    frame = await click(tab, "set_rows", payload=5)  # a table cannot show a number
    assert "toast-error" in frame and "set_rows left state the page cannot show" in frame
    assert "component &#x27;rows&#x27; cannot show its state" in frame and "not int" in frame
    frame = await click(tab, "set_rows", payload=[{"a": 2}])
    assert component_ids(frame) == ["rows"] and "<td>2</td>" in frame
    await tab.socket.disconnect()
    again = await open_socket(live_world.avery, app="shown", session_id=tab.session_id, fresh=False)
    assert "<td>2</td>" in await again.socket.receive_from(timeout=5)  # the kept state is one it can show
    await again.socket.disconnect()


LARGE_SOURCE = '''
from dashboards.sdk import download

initial_state = {"text": "", "clicks": 0}
page = """
{% text text id="text" %}
{% metric clicks id="clicks" %}
"""


def fill(state, payload):
    state.text = "x" * payload
    state.clicks += 1


def save(state, payload):
    download(state, b"y" * payload, "data.bin")
'''


async def test_an_answer_too_large_to_send_is_undone_with_a_toast(live_world, monkeypatch) -> None:
    """Past FRAME_MAX_BYTES the browser would be sent a frame it chokes on: the handler is undone."""
    from dashboards.runtime import limits

    monkeypatch.setattr(limits, "FRAME_MAX_BYTES", 200_000)
    await sync_to_async(deploy_test_app)(live_world.acme, "large", LARGE_SOURCE)
    tab = await open_socket(live_world.avery, app="large")
    frame = await click(tab, "fill", payload=150_000)  # over the 64 KiB browsers may send: still fine
    assert sorted(component_ids(frame)) == ["clicks", "text"] and "x" * 150_000 in frame
    frame = await click(tab, "fill", payload=250_000)
    assert "toast-error" in frame and "fill was undone" in frame and "more than the 195 KiB" in frame
    assert len(frame) < 2000
    frame = await click(tab, "save", payload=300_000)  # a command counts too
    assert "save was undone" in frame and "dashboards:download" not in frame
    frame = await click(tab, "fill", payload=10)
    assert ">2<" in frame and "x" * 10 + "<" in frame  # the undone run left no trace
    await tab.socket.disconnect()
    monkeypatch.setattr(limits, "FRAME_MAX_BYTES", 100)  # a tab reconnecting to a page over the limit
    again = await open_socket(live_world.avery, app="large", session_id=tab.session_id, fresh=False)
    frame = await again.socket.receive_from(timeout=5)
    assert "This page could not show your saved state" in frame and "more than the 0 KiB" in frame
    monkeypatch.setattr(limits, "FRAME_MAX_BYTES", 200_000)
    assert ">3<" in await click(again, "fill", payload=1)  # and it goes on
    await again.socket.disconnect()


async def test_a_restored_state_the_page_cannot_show_still_opens_the_tab(live_world, redis_client) -> None:
    from dashboards.hosting.models import App
    from dashboards.runtime.snapshots import SnapshotKey

    await sync_to_async(deploy_test_app)(live_world.acme, "shown", SHOWN_SOURCE)
    tab = await open_socket(live_world.avery, app="shown")
    await tab.socket.disconnect()
    app = await App.objects.aget(tenant=live_world.acme, slug="shown")
    key = SnapshotKey(app.tenant_id, app.pk, f"u{live_world.avery.pk}", tab.session_id)
    redis_client.hset(key.redis_key, "rows", "5")  # kept before the check above, or by an older release
    again = await open_socket(live_world.avery, app="shown", session_id=tab.session_id, fresh=False)
    frame = await again.socket.receive_from(timeout=5)
    assert "seen" in component_ids(frame) and "This table cannot show its value" in frame
    assert "0=zero" in await click(again, "which", target="item-0", repeat_key="0")
    await again.socket.disconnect()


LOOPED_SOURCE = '''
initial_state = {"count": 0, "grid": [[1]], "note": ""}
page = """
{% metric count id="count" %}
{% markdown note id="note" %}
{% repeat grid as row %}{% text row.0 id="cell" %}
{% for a in row %}{% for b in row %}{% if a == b %}.{% endif %}{% endfor %}{% endfor %}
{% endrepeat %}
"""


def grow(state, payload):
    state.count += 100
    state.grid = [list(range(payload))]


def increment(state):
    state.count += 1


def write(state):
    state.note = "*word* " * 200_000  # 1.4 MB: its markdown takes a second or two to render
'''


async def test_a_page_too_slow_to_render_stalls_no_other_tab_and_is_undone(live_world) -> None:
    """A loop over a loop of state (25 million turns): the render leaves the event loop after
    50 ms, other tabs are answered meanwhile, and past the app's time limit the change is undone."""
    await sync_to_async(deploy_test_app)(live_world.acme, "looped", LOOPED_SOURCE, handler_timeout_seconds=2)
    slow = await open_socket(live_world.avery, app="looped")
    other = await open_socket(live_world.avery, app="looped")
    await slow.socket.send_to(text_data=json.dumps({"event": "ui:click", "handler": "grow", "payload": 5000}))
    await asyncio.sleep(0.2)
    assert ">1<" in await click(other, "increment")
    assert await slow.socket.receive_nothing(timeout=0.1)  # still rendering, off the loop
    frame = await slow.socket.receive_from(timeout=10)
    assert "toast-error" in frame and "took longer than 2 s to render" in frame
    assert ">1<" in await click(slow, "increment")  # the +100 was undone
    frame = await click(slow, "grow", payload=300)  # 90,000 turns: may leave the loop, and is shown
    assert ">101<" in frame and frame.count(".") >= 300
    await slow.socket.disconnect()
    await other.socket.disconnect()


async def test_a_large_value_renders_off_the_event_loop(live_world) -> None:
    """One call on a large value (markdown of 1.4 MB) cannot be stopped midway: it starts on a
    handler thread, and other tabs are answered meanwhile."""
    await sync_to_async(deploy_test_app)(live_world.acme, "looped", LOOPED_SOURCE, handler_timeout_seconds=30)
    slow = await open_socket(live_world.avery, app="looped")
    other = await open_socket(live_world.avery, app="looped")
    await slow.socket.send_to(text_data=json.dumps({"event": "ui:click", "handler": "write"}))
    await asyncio.sleep(0.2)
    assert ">1<" in await click(other, "increment")
    assert await slow.socket.receive_nothing(timeout=0.1)
    frame = await slow.socket.receive_from(timeout=30)
    assert component_ids(frame) == ["note"] and frame.count("<em>word</em>") == 200_000
    await slow.socket.disconnect()
    await other.socket.disconnect()


def test_a_page_too_slow_to_render_answers_503_and_tells_the_app_log(live_world) -> None:
    from dashboards.hosting.models import AppLogEntry

    big = "def initial_state(session):\n    return {'count': 0, 'grid': [list(range(5000))], 'note': ''}\n"
    source = LOOPED_SOURCE.replace('initial_state = {"count": 0, "grid": [[1]], "note": ""}', big)
    # The validator shows the page once with the initial state: big for signed-in users only.
    source = source.replace("range(5000)", "range(5000 if session.user_id else 1)")
    app = deploy_test_app(live_world.acme, "looped", source, handler_timeout_seconds=1)
    client = Client()
    client.force_login(live_world.avery)
    response = client.get("/t/acme/apps/looped/")
    assert response.status_code == 503
    log = "\n".join(AppLogEntry.objects.filter(app=app).values_list("message", flat=True))
    assert "the page took longer than 1 s to render" in log


async def test_a_repeated_component_gets_its_own_item_and_no_other(live_world) -> None:
    await sync_to_async(deploy_test_app)(live_world.acme, "shown", SHOWN_SOURCE)
    tab = await open_socket(live_world.avery, app="shown")
    for target, key, seen in [
        ("item-1", "1", "1=one"),
        ("place-eu-west", "eu-west", "eu-west=Dublin"),  # a dict's key may hold a dash
        ("item-01", "01", "01=None"),  # keys the repeater never wrote name no item
        ("item--1", "-1", "-1=None"),
        ("item- 1", " 1", " 1=None"),
        ("item-9", "9", "9=None"),
        ("item-0", "1", "1=None"),  # a key that is not the target's
    ]:
        frame = await click(tab, "which", target=target, repeat_key=key)
        assert f">{seen}<" in frame, (target, frame)
    await tab.socket.disconnect()


async def test_a_failing_handler_is_rolled_back_and_logged(lab_app) -> None:
    from dashboards.hosting.models import AppLogEntry

    tab = await open_socket(await _user("avery"), app="lab")
    frame = await click(tab, "boom")
    assert "toast-error" in frame and "the handler failed on purpose" in frame
    assert ">1<" in await click(tab, "increment")  # the +100 of the failed handler was undone
    await tab.socket.disconnect()  # at once: closing waits for the log lines still being written
    messages = await sync_to_async(lambda: list(AppLogEntry.objects.values_list("message", flat=True)))()
    assert any("ValueError: the handler failed on purpose" in m and "Traceback" in m for m in messages)


async def test_state_nested_too_deeply_to_keep_is_undone_and_the_session_goes_on(lab_app) -> None:
    tab = await open_socket(await _user("avery"), app="lab")
    frame = await click(tab, "nest")
    assert "toast-error" in frame and "nest left state that cannot be kept" in frame
    assert ">1<" in await click(tab, "increment")
    await tab.socket.disconnect()


async def test_a_state_key_no_snapshot_can_hold_is_refused_and_the_session_goes_on(lab_app) -> None:
    tab = await open_socket(await _user("avery"), app="lab")
    frame = await click(tab, "bad_key")
    assert "toast-error" in frame and "unpaired surrogate" in frame
    assert ">1<" in await click(tab, "increment")  # the +100 was undone
    await tab.socket.disconnect()
    again = await open_socket(await _user("avery"), app="lab", session_id=tab.session_id, fresh=False)
    assert ">1<" in await again.socket.receive_from(timeout=5)  # and the snapshot still holds the rest
    await again.socket.disconnect()


async def test_nan_in_state_is_kept_across_a_reconnect(lab_app) -> None:
    tab = await open_socket(await _user("avery"), app="lab")
    assert "with a gap" in await click(tab, "gap")
    await tab.socket.disconnect()
    again = await open_socket(await _user("avery"), app="lab", session_id=tab.session_id, fresh=False)
    await again.socket.receive_from(timeout=5)
    assert "[1.5, nan]" in await click(again, "show_items")
    await again.socket.disconnect()


async def test_a_slow_handler_times_out_and_the_session_goes_on(lab_app) -> None:
    tab = await open_socket(await _user("avery"), app="lab")
    frame = await click(tab, "slow")
    assert "slow timed out" in frame
    assert ">1<" in await click(tab, "increment")
    await asyncio.sleep(2.5)  # the abandoned thread ends; its late write must not reach the session
    assert ">2<" in await click(tab, "increment")
    await tab.socket.disconnect()


async def test_async_handlers_prints_logging_and_toasts(lab_app) -> None:
    from dashboards.hosting.models import AppLogEntry

    tab = await open_socket(await _user("avery"), app="lab")
    assert "napped 7" in await click(tab, "nap", payload=7)
    frame = await click(tab, "talk")
    assert "toast-success" in frame and "Said hello" in frame
    await asyncio.sleep(0.2)
    messages = await sync_to_async(lambda: set(AppLogEntry.objects.values_list("message", flat=True)))()
    assert {"hello from avery", "careful"} <= messages
    await tab.socket.disconnect()


async def _user(name: str):
    from django.contrib.auth import get_user_model

    return await get_user_model().objects.aget(username=name)


async def _closed_with(path: str, cookie: str | None) -> int:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect()
    assert connected  # accepted, then closed with a code the browser can read
    output = await socket.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    return output["code"]


async def _opens(path: str, cookie: str) -> bool:
    headers = [
        (b"origin", b"http://testserver"),
        (b"host", b"testserver"),
        (b"cookie", f"sessionid={cookie}".encode()),
    ]
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect()
    closed = False
    while connected and not await socket.receive_nothing(timeout=0.2):
        closed = closed or (await socket.receive_output())["type"] == "websocket.close"
    await socket.disconnect()
    return connected and not closed


async def test_refusals_have_documented_close_codes(live_world) -> None:
    cookie = await sync_to_async(signed_in_cookie)(live_world.avery)  # Acme only
    path = "/ws/t/{}/apps/{}/?sid=abcdefghijkl&fresh=1"
    assert await _closed_with(path.format("acme", "counter"), None) == CLOSE_NOT_SIGNED_IN
    assert await _closed_with(path.format("globex", "counter"), cookie) == CLOSE_UNKNOWN_APP
    assert await _closed_with(path.format("acme", "nothing"), cookie) == CLOSE_UNKNOWN_APP
    assert await _closed_with(path.format("nowhere", "counter"), cookie) == CLOSE_UNKNOWN_APP


async def test_a_user_past_the_open_tabs_limit_is_refused_until_one_closes(live_world, settings) -> None:
    from dashboards.runtime import consumers

    settings.TABS_PER_USER = 2  # the TABS_PER_USER environment variable
    cookie = await sync_to_async(signed_in_cookie)(live_world.avery)
    tabs = []
    for sid in ("tab-number-1", "tab-number-2"):
        tab = app_socket(cookie, "acme", "counter", session_id=sid, release_id="", fresh=True)
        assert (await tab.connect())[0]
        tabs.append(tab)
    path = "/ws/t/acme/apps/counter/?sid=tab-number-3&fresh=1"
    assert await _closed_with(path, cookie) == CLOSE_TOO_MANY_TABS
    other = await sync_to_async(signed_in_cookie)(live_world.alice)  # another user is not counted with avery
    assert await _opens(path, other)
    await tabs.pop().disconnect()
    assert await _opens(path, cookie)  # a closed tab frees its place
    for tab in tabs:
        await tab.disconnect()
    assert consumers._open_tabs_per_user[live_world.avery.pk] == 0


async def test_malformed_query_parameters_are_refused_or_ignored_never_an_error(live_world) -> None:
    cookie, session_id, release_id, _ = await sync_to_async(open_page)(live_world.avery, "acme", "counter")
    path = "/ws/t/acme/apps/counter/?"
    for sid in ["abc%20defghijk", "%C3%A9" * 8, "abcdefgh%0A", "abcd.efgh:ijkl", "a" * 65]:
        # a session id names a Redis key and a channel group: other characters are refused
        assert await _closed_with(f"{path}sid={sid}&release={release_id}&fresh=1", cookie) == CLOSE_FORBIDDEN
    for release in ["%C2%B2", "9" * 5000, "9" * 30, "-1", "%00"]:  # the active release is used instead
        tab = app_socket(cookie, "acme", "counter", session_id=session_id, release_id=release, fresh=False)
        connected, _ = await tab.connect()
        assert connected and "count" in component_ids(await tab.receive_from(timeout=5)), release
        await tab.disconnect()
    tab = app_socket(cookie, "acme", "counter", session_id=session_id, release_id=release_id, fresh=False)
    tab.scope["query_string"] += b"&x=\xff\xfe"  # not UTF-8
    connected, _ = await tab.connect()
    assert connected and "count" in component_ids(await tab.receive_from(timeout=5))
    await tab.disconnect()


async def test_team_apps_are_closed_to_people_outside_the_teams(live_world) -> None:
    from dashboards.hosting.models import App, AppAccess
    from dashboards.tenancy.models import Team

    def restrict() -> None:
        app = App.objects.get(tenant=live_world.acme, slug="sales")
        app.access = AppAccess.TEAMS
        app.save()
        app.teams.set([Team.objects.create(tenant=live_world.acme, name="Nobody")])

    await sync_to_async(restrict)()
    cookie = await sync_to_async(signed_in_cookie)(live_world.avery)
    assert await _closed_with("/ws/t/acme/apps/sales/?sid=abcdefghijkl&fresh=1", cookie) == CLOSE_FORBIDDEN


async def test_removing_access_closes_open_sockets_within_a_second(live_world) -> None:
    from dashboards.tenancy import services
    from dashboards.tenancy.models import Membership

    tab = await open_socket(live_world.avery)

    def remove() -> None:
        membership = Membership.objects.get(tenant=live_world.acme, user=live_world.avery)
        services.membership_remove(membership=membership, actor=live_world.alice)

    await sync_to_async(remove)()
    output = await tab.socket.receive_output(timeout=1)
    assert output == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


def _team_only_sales(live_world):
    from dashboards.hosting.models import App, AppAccess
    from dashboards.tenancy.models import Membership, Team

    app = App.objects.get(tenant=live_world.acme, slug="sales")
    app.access = AppAccess.TEAMS
    app.save()
    team = Team.objects.create(tenant=live_world.acme, name="Sales team")
    team.members.set([Membership.objects.get(tenant=live_world.acme, user=live_world.avery)])
    app.teams.set([team])
    return app, team


def _remove_app_from_team(app, team, live_world) -> None:
    app.teams.remove(team)


def _remove_team_from_app(app, team, live_world) -> None:
    team.apps.remove(app)


def _clear_app_teams(app, team, live_world) -> None:
    app.teams.clear()


def _delete_team(app, team, live_world) -> None:
    team.delete()


def _leave_team(app, team, live_world) -> None:
    from dashboards.tenancy.models import Membership

    Membership.objects.get(tenant=live_world.acme, user=live_world.avery).teams.remove(team)


def _deactivate_user(app, team, live_world) -> None:
    live_world.avery.is_active = False
    live_world.avery.save()


def _delete_app(app, team, live_world) -> None:
    app.delete()


@pytest.mark.parametrize(
    "remove_access",
    [
        _remove_app_from_team,
        _remove_team_from_app,
        _clear_app_teams,
        _delete_team,
        _leave_team,
        _deactivate_user,
        _delete_app,
    ],
    ids=lambda function: function.__name__.strip("_"),
)
async def test_every_way_of_losing_a_team_app_closes_its_sockets_within_a_second(
    live_world, remove_access
) -> None:
    app, team = await sync_to_async(_team_only_sales)(live_world)
    tab = await open_socket(live_world.avery, app="sales")
    await sync_to_async(remove_access)(app, team, live_world)
    output = await tab.socket.receive_output(timeout=1)
    assert output == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def test_a_sign_in_elsewhere_leaves_open_sockets_alone(live_world) -> None:
    tab = await open_socket(live_world.avery)
    await sync_to_async(signed_in_cookie)(live_world.avery)  # saves last_login
    assert await tab.socket.receive_nothing(timeout=0.3)
    assert ">1<" in await click(tab, "increment")


async def test_signing_out_closes_that_browsers_sockets(live_world) -> None:
    from django.contrib.auth import logout
    from django.test import RequestFactory

    from dashboards.runtime.browser_sessions import SessionStore  # the SESSION_ENGINE

    tab = await open_socket(live_world.avery)
    cookie = tab.socket.scope["headers"][0][1].decode().split("=", 1)[1]

    def sign_out() -> None:
        request = RequestFactory().post("/accounts/logout/")
        request.session = SessionStore(session_key=cookie)
        request.user = live_world.avery
        logout(request)

    await asyncio.sleep(0.3)  # its look at its access once open is done (signed out during it: 4012)
    await sync_to_async(sign_out)()
    output = await tab.socket.receive_output(timeout=1)
    assert output == {"type": "websocket.close", "code": CLOSE_NOT_SIGNED_IN}


async def test_a_new_release_is_announced_to_open_tabs(live_world) -> None:
    from dashboards.hosting.models import App
    from dashboards.hosting.services import release_activate, release_create
    from dashboards.ops.demo import DEMO_APPS_DIR

    tab = await open_socket(live_world.avery)

    def deploy() -> None:
        app = App.objects.get(tenant=live_world.acme, slug="counter")
        source = (DEMO_APPS_DIR / "counter.py").read_text() + "\n# v2\n"
        release_activate(release=release_create(app=app, files={"main.py": source}, author=None))

    await sync_to_async(deploy)()
    frame = await tab.socket.receive_from(timeout=2)
    assert "Version 2 of this app is available" in frame
    assert ">1<" in await click(tab, "increment")  # the open tab keeps its release meanwhile
    await tab.socket.disconnect()


async def test_a_rollback_is_announced_as_one(live_world) -> None:
    """A tab on version 2 was told that version 1 'is available', as if it were an upgrade."""
    from dashboards.hosting.models import App
    from dashboards.hosting.services import app_rollback, release_activate, release_create
    from dashboards.ops.demo import DEMO_APPS_DIR

    def deploy() -> None:
        app = App.objects.get(tenant=live_world.acme, slug="counter")
        source = (DEMO_APPS_DIR / "counter.py").read_text() + "\n# v2\n"
        release_activate(release=release_create(app=app, files={"main.py": source}, author=None))

    await sync_to_async(deploy)()
    tab = await open_socket(live_world.avery)  # on version 2

    def roll_back() -> None:
        app_rollback(app=App.objects.get(tenant=live_world.acme, slug="counter"), actor=None)

    await sync_to_async(roll_back)()
    frame = await tab.socket.receive_from(timeout=2)
    assert "This app was rolled back to version 1: reload the page to use it." in frame
    await tab.socket.disconnect()


async def test_only_a_tab_saved_on_an_older_release_keeps_it(live_world) -> None:
    """A tab open across a deploy reconnects onto its own release; a new session naming a release
    that was never activated (ids are sequential) gets the active one instead."""
    from dashboards.hosting.models import App
    from dashboards.hosting.services import release_activate, release_create
    from dashboards.ops.demo import DEMO_APPS_DIR

    cookie, session_id, old_release, _ = await sync_to_async(open_page)(live_world.avery, "acme", "counter")
    tab = app_socket(cookie, "acme", "counter", session_id=session_id, release_id=old_release, fresh=True)
    assert (await tab.connect())[0]
    await tab.send_to(text_data=json.dumps({"event": "ui:click", "handler": "increment"}))
    assert ">1<" in await tab.receive_from(timeout=2)

    def deploy() -> tuple[str, str]:
        app = App.objects.get(tenant=live_world.acme, slug="counter")
        source = (DEMO_APPS_DIR / "counter.py").read_text()
        active = release_create(app=app, files={"main.py": source + "\n# v2\n"}, author=None)
        release_activate(release=active)
        hidden = release_create(
            app=app, files={"main.py": source.replace("state.count += 1", "state.count += 100")}, author=None
        )
        return str(active.pk), str(hidden.pk)  # the second one valid, never activated

    _, hidden_release = await sync_to_async(deploy)()
    await tab.disconnect()
    again = app_socket(cookie, "acme", "counter", session_id=session_id, release_id=old_release, fresh=False)
    assert (await again.connect())[0]
    assert ">2<" in await _answer_to(again, "increment")  # its state, on its release
    await again.disconnect()

    _, new_session, _, _ = await sync_to_async(open_page)(live_world.avery, "acme", "counter")
    for session in (new_session, "b" * 24):  # a session of the active release, and one never shown
        probe = app_socket(
            cookie, "acme", "counter", session_id=session, release_id=hidden_release, fresh=True
        )
        assert (await probe.connect())[0]
        frame = await _answer_to(probe, "increment")
        assert ">1<" in frame and ">100<" not in frame
        await probe.disconnect()


async def _answer_to(socket: WebsocketCommunicator, handler: str) -> str:
    await socket.send_to(text_data=json.dumps({"event": "ui:click", "handler": handler}))
    frames = [await socket.receive_from(timeout=2)]
    while not await socket.receive_nothing(timeout=0.2):
        frames.append(await socket.receive_from())
    return "".join(frames)


DELETING_SOURCE = """
initial_state = {"count": 0, "note": "hello"}
page = \"\"\"{% metric count label="Count" id="count" %}{% text note id="note" %}\"\"\"

def drop(state):
    del state["note"]
    state.count += 1
"""


async def test_deleting_a_key_shows_what_read_it_empty_at_once(live_world) -> None:
    await sync_to_async(deploy_test_app)(live_world.acme, "deleting", DELETING_SOURCE)
    tab = await open_socket(live_world.avery, app="deleting")
    frame = await click(tab, "drop")
    assert sorted(component_ids(frame)) == ["count", "note"] and "hello" not in frame


LEAKY_SOURCE = """
import threading

initial_state = {"count": 0, "note": ""}
page = \"\"\"{% metric count label="Count" id="count" %}{% text note id="note" %}\"\"\"
HELD = []
OUTCOMES = []


def later(state):
    def write():
        try:
            state.count = 99
            OUTCOMES.append("written")
        except RuntimeError as error:
            OUTCOMES.append(str(error))
    threading.Timer(0.2, write).start()


def hold(state):
    HELD.append(state)


def reach(state):
    try:
        HELD[0]["note"] = "from another tab"
    except RuntimeError as error:
        state.note = str(error)[:40]


def increment(state):
    state.count += 1
"""


async def _send_quietly(socket: WebsocketCommunicator, handler: str) -> None:
    """A click whose handler changes nothing on the page: no frame comes back."""
    await socket.send_to(text_data=json.dumps({"event": "ui:click", "handler": handler}))
    assert await socket.receive_nothing(timeout=0.3)


async def test_a_tabs_state_changes_only_while_its_own_code_runs(live_world) -> None:
    """A thread a handler left running, or another tab's code holding the state, cannot change it
    between runs (the write would land unseen, then be sent or undone with an unrelated event)."""
    await sync_to_async(deploy_test_app)(live_world.acme, "leaky", LEAKY_SOURCE)
    first = await open_socket(live_world.avery, app="leaky")
    await _send_quietly(first.socket, "later")
    await asyncio.sleep(0.5)  # the thread tried meanwhile
    assert ">1<" in await click(first, "increment")  # not 100: the 99 never landed
    await _send_quietly(first.socket, "hold")
    second = await open_socket(live_world.alice, app="leaky")
    frame = await click(second, "reach")
    assert "changes only while" in frame  # refused: the first tab is between its runs
    assert ">2<" in await click(first, "increment")


async def test_a_flood_of_events_is_cut_off_with_a_toast(live_world) -> None:
    tab = await open_socket(live_world.avery)
    message = json.dumps({"event": "ui:click", "handler": "increment"})
    for _ in range(900):
        await tab.socket.send_to(text_data=message)
    frames = []
    while not await tab.socket.receive_nothing(timeout=0.5):
        frames.append(await tab.socket.receive_from())
    assert sum("Too many events" in frame for frame in frames) == 1  # one warning, not a flood of toasts
    assert len(frames) < 900  # the excess was dropped
    await tab.socket.disconnect()


async def test_a_full_queue_drops_a_progress_update_but_keeps_a_jobs_end() -> None:
    """A job's end runs its status function once: with the tab's queue full of the user's events
    it waits for room; a closing tab takes nothing more."""
    from dashboards.runtime.consumers import AppSessionConsumer

    tab = AppSessionConsumer()
    tab.queue, tab.waiting_puts, tab.closing, tab.session = asyncio.Queue(1), set(), False, None
    tab.queue.put_nowait("an event of the user")

    async def work() -> str:
        return ""

    assert tab._post(work) is False  # a progress update: dropped
    assert tab._post(work, True) is True  # the end: waits
    assert tab.queue.get_nowait() == "an event of the user"
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert tab.queue.get_nowait() is work and not tab.waiting_puts
    tab.closing = True
    assert tab._post(work, True) is False and tab.queue.empty()


async def test_a_shutdown_leaves_every_group_its_tabs_sat_in(live_world, redis_client) -> None:
    """Daphne cancels its consumers before their disconnect runs: their memberships stayed a day."""
    from dashboards.events.hub import get_hub
    from dashboards.runtime import shutdown

    tab = await open_socket(live_world.avery)
    await click(tab, "increment")  # open and working

    def members() -> int:
        return sum(redis_client.zcard(key) for key in redis_client.scan_iter(match="dashboards:group:*"))

    assert members() > 0
    held = get_hub().memberships_held()
    assert held
    await shutdown.close_all_tabs()
    output = await tab.socket.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": 4012}
    await shutdown._leave_groups(held)  # what shut_down does next, before the process ends
    assert members() == 0


async def test_a_closed_tab_s_last_changes_are_in_redis_when_its_disconnect_ends(
    live_world, redis_client
) -> None:
    """Read from Redis as another process would: its write batch waited up to 50 ms, and a browser
    reconnecting to another process at once got the state from before the last clicks."""
    from dashboards.hosting.models import App
    from dashboards.runtime.snapshots import SnapshotKey

    tab = await open_socket(live_world.avery)
    for _ in range(5):
        await click(tab, "increment")
    await tab.socket.disconnect()
    app = await sync_to_async(App.objects.get)(tenant=live_world.acme, slug="counter")
    key = SnapshotKey(live_world.acme.pk, app.pk, f"u{live_world.avery.pk}", tab.session_id)
    assert redis_client.hget(key.redis_key, "count") == b"5"


CLAMPING_SOURCE = '''
page = """
{% number steps min=1 max=50 on_change="set_steps" id="steps" %}
{% text_input name on_change="set_name" id="name" %}
{% text steps id="shown" %}
"""
initial_state = {"steps": 10, "name": ""}


def set_steps(state, payload):
    state.steps = min(50, max(1, int(payload or 1)))


def set_name(state, payload):
    state.name = (payload or "").strip()
'''


async def test_an_input_left_showing_what_its_handler_changed_is_sent_back(live_world) -> None:
    """Typing never gets its input back (it would fight the user); once the user is done with it
    (its change event), an input whose value the handler clamped or cleaned shows the state's."""
    await sync_to_async(deploy_test_app)(live_world.acme, "clamping", CLAMPING_SOURCE)
    tab = await open_socket(live_world.avery, app="clamping")
    typing = await click(tab, "set_steps", event="ui:change", payload=-5, target="steps")
    assert component_ids(typing) == ["shown"]
    left = await click(tab, "set_steps", event="ui:change", payload=-5, target="steps", settled=True)
    assert "steps" in component_ids(left) and 'value="1"' in left
    kept = await click(tab, "set_steps", event="ui:change", payload=7, target="steps", settled=True)
    assert component_ids(kept) == ["shown"]  # shows what the user typed: not swapped under them
    cleaned = await click(tab, "set_name", event="ui:change", payload="  Ada ", target="name", settled=True)
    assert component_ids(cleaned) == ["name"] and 'value="Ada"' in cleaned
    await tab.socket.send_to(text_data=json.dumps(
        {"event": "ui:change", "handler": "set_name", "payload": "Ada", "target": "name", "settled": True}
    ))  # fmt: skip
    assert await tab.socket.receive_nothing(timeout=0.3)  # it shows what the state holds already
    await tab.socket.disconnect()
