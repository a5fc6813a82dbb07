"""An app author's wrong arguments to the SDK: a clear error in the handler, never a broken frame.

App code is untrusted and often wrong. What the SDK cannot send as asked raises in the handler
(rolled back, with an error toast and a line in the app's log), so the browser never gets a
command that fails there or does something else than asked.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboards.jobs.specs import JobRefused, status_call_arguments
from dashboards.runtime.codecs import NotSerialisable
from dashboards.runtime.frames import render_commands, toast_command
from dashboards.runtime.limits import DOWNLOAD_MAX_BYTES, TOAST_MAX_DURATION_MS, TOAST_MESSAGE_MAX_CHARS
from dashboards.runtime.page import RenderError
from dashboards.testing import AppTestClient
from tests.runtime.conftest import click, open_socket
from tests.support import deploy_test_app

SOURCE = '''
import datetime

from dashboards.sdk import (
    download, invoke_long_callback, navigate, notify, progress, set_content, update_chart_layout,
)

initial_state = {"count": 0, "rows": [], "done": 0.0}
page = """
{% metric count id="count" %}
{% table rows id="rows" %}
<p id="note"></p>
"""
CALLS = {"notify": notify, "set_content": set_content, "download": download, "navigate": navigate,
         "update_chart_layout": update_chart_layout}
ARGUMENTS = {}  # name -> (args, kwargs): set by the tests, as a handler's arguments may be anything


def call(state):
    state.count += 1
    function, args, kwargs = ARGUMENTS["next"]
    CALLS[function](state, *args, **kwargs)


def forget_the_state(state):
    download("a,b", "rows.csv", "text/csv")  # the state forgotten: every argument one place off


def store(state):
    state.count += 1
    state[ARGUMENTS["key"]] = ARGUMENTS["value"]


def work(fraction, message):
    progress(float(fraction) if fraction in ("nan", "inf") else fraction, message)
    return 1


def status(state, status, result=None):
    if not isinstance(status, bool):
        state.done = status.fraction


def start(state):
    invoke_long_callback(state, work, ARGUMENTS["job"], status, **ARGUMENTS.get("options", {}))
'''


@pytest.fixture
def app():
    with AppTestClient(SOURCE) as client:
        yield client


def arguments_of(app: AppTestClient) -> dict:
    """The app's ARGUMENTS dict: how a test hands its handlers values no payload could carry."""
    return app.app.handlers["call"].__globals__["ARGUMENTS"]


def run(app: AppTestClient, function: str, *args, **kwargs) -> list[dict]:
    """Call one SDK function from a handler; the commands it queued."""
    arguments_of(app)["next"] = (function, args, kwargs)
    app.commands.clear()
    app.click("call")
    return app.commands


def refused(app: AppTestClient, function: str, *args, **kwargs) -> str:
    """Call one SDK function from a handler that must fail: rolled back, nothing sent."""
    arguments_of(app)["next"] = (function, args, kwargs)
    app.commands.clear()
    with pytest.raises((TypeError, ValueError)) as error:
        app.click("call")
    assert app.state.count == 0 and app.commands == []  # rolled back, nothing queued
    return str(error.value)


# --- notify ---
@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"level": "bogus"}, "level must be one of info, success, warning, error, not 'bogus'"),
        ({"level": ["info"]}, "level must be one of"),
        ({"message": None}, "message must be a string, not NoneType"),
        ({"message": 12345}, "message must be a string, not int"),
        ({"duration": -5}, "duration must be from 0"),
        ({"duration": 10**30}, f"to {TOAST_MAX_DURATION_MS} ms"),
        ({"duration": math.nan}, "duration is a number of milliseconds, not nan"),
        ({"duration": math.inf}, "duration is a number of milliseconds"),
        ({"duration": True}, "duration is a number of milliseconds, not True"),
        ({"duration": "1000"}, "duration is a number of milliseconds, not '1000'"),
        ({"position": "middle"}, "position must be one of top-right"),
        ({"position": ["top-right"]}, "position must be one of"),
        ({"link": "javascript:alert(1)"}, "link is a path on this site"),
        ({"link": "/\\evil.example"}, "link is a path on this site"),
        ({"link": "/\t/evil.example"}, "link is a path on this site"),
        ({"link": 5}, "link is a path on this site, like /t/acme/jobs/, not 5"),
    ],
)
def test_notify_refuses_arguments_it_cannot_show_as_asked(app, kwargs, says) -> None:
    arguments = {"level": "info", "message": "Saved", **kwargs}
    level, message = arguments.pop("level"), arguments.pop("message")
    assert says in refused(app, "notify", level, message, **arguments)


def test_notify_shows_what_it_is_given(app) -> None:
    [toast] = run(app, "notify", "warning", "Careful", duration=2500.0, position="bottom-left", link="/t/a/")
    assert toast == {"type": "dashboards:toast", "level": "warning", "message": "Careful", "duration": 2500,
                     "position": "bottom-left", "link": "/t/a/"}  # fmt: skip
    assert run(app, "notify", "info", "Until dismissed", duration=0)[0]["duration"] == 0


TAIPY_LEVELS = [("I", "info"), ("S", "success"), ("W", "warning"), ("e", "error"), ("INFO", "info"),
                (" Warning ", "warning")]  # fmt: skip


@pytest.mark.parametrize(("level", "shown"), TAIPY_LEVELS)
def test_notify_takes_taipys_level_names(app, level, shown) -> None:
    assert run(app, "notify", level, "Saved")[0]["level"] == shown


def test_a_long_toast_message_is_shortened_not_sent_whole(app) -> None:
    [toast] = run(app, "notify", "info", "x" * 10_000_000)
    assert len(toast["message"]) == TOAST_MESSAGE_MAX_CHARS and toast["message"].endswith("…")


def test_sdk_functions_called_without_the_state_say_so(app) -> None:
    with pytest.raises(
        TypeError, match=r"download takes the handler's state first: download\(state, \.\.\.\)"
    ):
        app.click("forget_the_state")


# --- set_content ---
def test_set_content_refuses_what_is_not_a_selector_or_text(app) -> None:
    assert "selector must be a string, not int" in refused(app, "set_content", 5, "x")
    assert "selector is a CSS selector" in refused(app, "set_content", "  ", "x")
    assert "selector is a CSS selector" in refused(app, "set_content", "#" + "a" * 600, "x")
    assert "text must be a string, not NoneType" in refused(app, "set_content", "#note", None)
    assert "text must be a string, not list" in refused(app, "set_content", "#note", ["a"])
    assert "at most" in refused(app, "set_content", "#note", "x" * 1_000_000)
    [command] = run(app, "set_content", "#note", 42)  # a number is shown as str() shows it
    assert command == {"type": "dashboards:set-content", "selector": "#note", "text": "42"}


# --- download ---
@pytest.mark.parametrize("content", [bytearray(b"a,b\n"), memoryview(b"a,b\n"), b"a,b\n"])
def test_download_sends_any_bytes_like_content_as_base64(app, content) -> None:
    [command] = run(app, "download", content, "rows.csv", "text/csv; charset=utf-8")
    assert command["encoding"] == "base64" and command["content"] == "YSxiCg=="
    assert render_commands([command])  # strict JSON: it was a TypeError after the state was kept


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((123, "f.txt"), "content must be str or bytes, not int"),
        ((None, "f.txt"), "content must be str or bytes, not NoneType"),
        (("a", None), "filename must be a string"),
        (("a", ""), "filename is a file name"),
        (("a", ".."), "filename is a file name"),
        (("a", "../etc/passwd"), "without a folder"),
        (("a", "C:\\report.csv"), "without a folder"),
        (("a", "two\nlines.csv"), "control characters"),
        (("a", "x" * 300 + ".csv"), "1 to 255 characters"),
        (("a", "f.txt", 5), "mime_type must be a string"),
        (("a", "f.txt", "text"), "mime_type is a media type like text/csv"),
        (("a", "f.txt", "text/html\r\nX-Evil: 1"), "mime_type is a media type"),
    ],
)
def test_download_refuses_bad_content_names_and_types(app, args, says) -> None:
    assert says in refused(app, "download", *args)


def test_download_takes_unicode_names_with_quotes(app) -> None:
    [command] = run(app, "download", "é", 'rapport "final" é.csv')
    assert command["filename"] == 'rapport "final" é.csv' and command["encoding"] == "text"


def test_a_download_past_the_limit_is_refused_in_the_handler(app) -> None:
    assert f"at most {DOWNLOAD_MAX_BYTES} bytes" in refused(
        app, "download", b"x" * (DOWNLOAD_MAX_BYTES + 1), "f"
    )
    # measured as UTF-8: a quarter as many characters of 4 bytes each are as big
    too_big = "\U0001f600" * (DOWNLOAD_MAX_BYTES // 4 + 1)
    assert f"(it has {DOWNLOAD_MAX_BYTES + 4})" in refused(app, "download", too_big, "f")
    assert run(app, "download", b"x" * DOWNLOAD_MAX_BYTES, "f.bin")


# --- navigate ---
@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
     "data:text/html,<script>alert(1)</script>", "https://evil.example/", "relative", "", "/" + "a" * 3000],
)  # fmt: skip
def test_navigate_refuses_urls_that_can_leave_the_site(app, url) -> None:
    assert "navigate takes a path on this site" in refused(app, "navigate", url)


def test_navigate_refuses_a_url_that_is_not_a_string(app) -> None:
    assert "url must be a string, not NoneType" in refused(app, "navigate", None)
    assert run(app, "navigate", "/t/acme/?q=a b")[0]["url"] == "/t/acme/?q=a b"


# --- update_chart_layout ---
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("chart", "title"), "layout must be a dict, not str"),
        (("chart", None), "layout must be a dict, not NoneType"),
        (("chart", {"a": math.nan}), "layout must be JSON-serialisable"),
        (("chart", {"a": {1, 2}}), "Object of type set is not JSON serializable"),
        (("chart", {"a": object()}), "layout must be JSON-serialisable"),
        (("chart", {"a": "x" * 300_000}), "must fit in"),
        ((None, {}), "target must be a string, not NoneType"),
        (("", {}), "target is the chart's component id"),
    ],
)
def test_update_chart_layout_refuses_what_the_browser_cannot_parse(app, args, says) -> None:
    assert says in refused(app, "update_chart_layout", *args)


def test_update_chart_layout_sends_a_json_copy_taken_at_the_call(app) -> None:
    layout = {"xaxis": {"range": [dt.date(2024, 1, 1), dt.datetime(2024, 2, 1, 12)]}, "title": {"text": "A"}}
    [command] = run(app, "update_chart_layout", "chart", layout)
    layout["title"]["text"] = "changed later"
    assert command["layout"] == {
        "xaxis": {"range": ["2024-01-01", "2024-02-01T12:00:00"]},
        "title": {"text": "A"},
    }


# --- long callbacks ---
@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"timeout": math.nan}, "timeout must be a number of seconds from 1"),
        ({"timeout": -5}, "timeout must be a number of seconds from 1"),
        ({"timeout": True}, "timeout must be a number of seconds"),
        ({"timeout": "60"}, "timeout must be a number of seconds"),
        ({"timeout": 10**9}, "timeout must be a number of seconds"),
        ({"period": math.nan}, "period is a number of milliseconds"),
        ({"period": math.inf}, "period is a number of milliseconds"),
    ],
)
def test_invoke_long_callback_refuses_bad_timeouts_and_periods_in_the_handler(app, options, says) -> None:
    arguments_of(app).update(job=[0.5, "half"], options=options)
    with pytest.raises(JobRefused, match=says):
        app.click("start")
    assert app.jobs == []


@pytest.mark.parametrize(
    ("fraction", "message"), [("nan", "x"), ("inf", "x"), ("half", "x"), (True, "x"), (0.5, 5)]
)
def test_progress_refuses_what_is_not_a_fraction_and_a_message(app, fraction, message) -> None:
    arguments_of(app).update(job=[fraction, message], options={})
    app.click("start")
    assert app.jobs[0]["status"] == "failed" and app.jobs[0]["progress"] == []
    assert "progress: " in app.jobs[0]["error"]


def test_progress_clamps_the_fraction_and_shortens_the_message(app) -> None:
    arguments_of(app).update(job=[7, "m" * 10_000], options={})
    app.click("start")
    [(fraction, message)] = app.jobs[0]["progress"]
    assert fraction == 1.0 and len(message) == 300
    assert app.state.done == 1.0


# --- the test client refuses what the platform would not keep ---
@pytest.mark.parametrize(
    ("key", "value", "error"),
    [("count", object(), NotSerialisable), ("rows", 5, RenderError), ("rows", {"a": 1}, RenderError)],
)
def test_the_test_client_refuses_state_the_platform_would_not_keep(app, key, value, error) -> None:
    arguments_of(app).update(key=key, value=value)
    with pytest.raises(error):
        app.click("store")
    assert app.state.count == 0 and app.state.rows == []


# --- frames: what the platform sends never breaks the socket or the browser ---
def test_commands_that_are_not_strict_json_are_left_out_with_an_error_toast() -> None:
    frame = render_commands([
        {"type": "plotly:update-layout", "target": "chart", "layout": {"a": {1, 2}}},
        {"type": "plotly:update-layout", "target": "chart", "layout": {"a": math.nan}},
        {"type": "dashboards:navigate", "url": "/t/acme/"},
    ])  # fmt: skip
    assert frame.count('class="toast toast-error"') == 2 and "NaN" not in frame
    [commands] = [json.loads(part.split('"', 1)[0].replace("&quot;", '"'))
                  for part in frame.split('data-command="')[1:]]  # fmt: skip
    assert commands == [{"type": "dashboards:navigate", "url": "/t/acme/"}]


def test_platform_toasts_fall_back_to_safe_values() -> None:
    toast = toast_command("info", "m", duration=math.nan, link="/\\evil.example")
    assert toast["duration"] == 4000 and toast["link"] is None
    assert toast_command("info", "m", duration=10**30)["duration"] == TOAST_MAX_DURATION_MS
    assert toast_command("info", "bad \udcff byte")["message"] == "bad \ufffd byte"
    assert render_commands([toast_command("info", "bad \udcff byte")]).encode("utf-8")
    for level, words in (
        ("info", "Info"),
        ("success", "Success"),
        ("warning", "Warning"),
        ("error", "Error"),
    ):
        assert f'<strong class="toast-level">{words}<' in render_commands([toast_command(level, "m")])


# --- through the socket: the session goes on ---
SOCKET_SOURCE = """
from dashboards.sdk import download, update_chart_layout, notify

initial_state = {"count": 0, "rows": [], "name": ""}
page = '{% metric count id="count" %}{% table rows id="rows" %}{% text name id="name" %}'


def increment(state):
    state.count += 1


def export(state):
    state.count += 1
    download(state, bytearray(b"a,b\\n"), "rows.csv", "text/csv")


def relayout(state):
    state.count += 1
    update_chart_layout(state, "chart", {"range": {1, 2}})


def table_of_a_number(state):
    state.count += 1
    state.rows = 5


def undecodable(state):
    state.name = b"caf\\xe9".decode("utf-8", "surrogateescape")
    notify(state, "info", state.name)
"""


async def test_bad_sdk_arguments_and_state_end_in_a_toast_and_the_session_goes_on(live_world) -> None:
    from asgiref.sync import sync_to_async

    await sync_to_async(deploy_test_app)(live_world.acme, "sdk-lab", SOCKET_SOURCE)
    tab = await open_socket(live_world.avery, app="sdk-lab")
    frame = await click(tab, "export")  # bytes-like content: was a TypeError after the state was kept
    assert "dashboards:download" in frame and "YSxiCg==" in frame and ">1<" in frame
    frame = await click(tab, "relayout")
    assert 'class="toast toast-error"' in frame and "not JSON serializable" in frame
    frame = await click(tab, "table_of_a_number")
    assert 'class="toast toast-error"' in frame and "a table shows a list of dicts" in frame
    frame = await click(tab, "undecodable")  # a surrogate in a frame would fail its send
    assert "caf\ufffd" in frame and frame.encode("utf-8")
    assert ">2<" in await click(tab, "increment")  # the refused handlers were undone
    await tab.socket.disconnect()


def test_decimal_and_date_state_still_render(app) -> None:
    arguments_of(app).update(
        key="rows", value=[{"when": dt.date(2024, 1, 1), "amount": decimal.Decimal("1.5")}]
    )
    app.click("store")
    assert "<td>2024-01-01</td><td>1.5</td>" in app.rendered("rows")


REPEATER_SOURCE = """
initial_state = {"rows": [{"name": "a"}, {"name": "b"}], "picked": ""}
page = \"\"\"{% repeat rows as row %}{% button row.name on_click="pick" id="pick" %}{% endrepeat %}\"\"\"


def pick(state, context):
    state.picked = context["repeat_value"]["name"]
"""


def test_the_test_client_gives_a_repeated_click_its_item_as_the_page_does() -> None:
    client = AppTestClient({"main.py": REPEATER_SOURCE})
    assert client.click("pick", target="pick", repeat_key=1) == {"picked"}
    assert client.state.picked == "b"


KEYED_REPEATER_SOURCE = """
initial_state = {"names": {1: "one", 2: "two", "x": "ex"}, "picked": ""}
page = \"\"\"{% repeat names as name %}{% button name on_click="pick" id="pick" %}{% endrepeat %}\"\"\"


def pick(state, context):
    state.picked = f"{context['repeat_key']}={context['repeat_value']}"
"""


def test_a_repeater_over_a_dict_with_int_keys_gives_the_item_clicked() -> None:
    """The page writes each key as str(key): the browser's "2" finds the entry whose key is 2."""
    client = AppTestClient({"main.py": KEYED_REPEATER_SOURCE})
    client.click("pick", target="pick", repeat_key="2")
    assert client.state.picked == "2=two"
    client.click("pick", target="pick", repeat_key="x")
    assert client.state.picked == "x=ex"
    client.click("pick", target="pick", repeat_key="3")  # no such item: the page would not show it
    assert client.state.picked == "3=None"


CHATTY_TEAM_SOURCE = """
from dashboards.sdk import notify_team

initial_state = {"n": 0}
page = "{% text n %}"


def shout(state):
    for n in range(25):
        notify_team("Analysts", "info", f"message {n}")
    state.n += 1
"""


def test_a_run_sends_at_most_ten_team_notifications() -> None:
    """Each is an inbox row per member and a toast: one run in a loop is cut at ten."""
    client = AppTestClient({"main.py": CHATTY_TEAM_SOURCE})
    client.click("shout")
    assert [n["message"] for n in client.team_notifications] == [f"message {n}" for n in range(10)]
    client.click("shout")  # the limit is per run
    assert len(client.team_notifications) == 20
    assert client.state.n == 2


CHATTY_EVENTS_SOURCE = """
from dashboards.sdk import emit_event

initial_state = {"n": 0}
page = "{% text n %}"


def announce(state):
    for n in range(30):
        emit_event("tick", n, metadata={"depth": -1000})  # an app's own depth is not kept
    state.n += 1
"""


def test_a_run_emits_at_most_twenty_events_and_never_sets_their_depth() -> None:
    client = AppTestClient({"main.py": CHATTY_EVENTS_SOURCE})
    client.click("announce")
    assert [event.attribute_value for event in client.events] == list(range(20))
    assert all("depth" not in event.metadata for event in client.events)
    assert client.state.n == 1


AS_THE_PLATFORM_REFUSES_SOURCE = """
initial_state = {"rows": [{"a": 1}], "n": 0}
page = '{% table rows id="rows" %}{% text n id="n" %}'


def counted(state):
    state.n = 5
    yield


async def counted_later(state):
    state.n = 6
    yield


def drop_rows(state):
    del state["rows"]
"""


def test_the_test_client_refuses_what_the_platform_refuses() -> None:
    """Generators are no handlers, and a deleted key is shown as None by what reads it."""
    with AppTestClient(AS_THE_PLATFORM_REFUSES_SOURCE) as client:
        for handler in ("counted", "counted_later"):
            with pytest.raises(TypeError, match="generator"):
                client.click(handler)
            assert client.state.n == 0
        with pytest.raises(Exception, match="table"):  # the page's own error
            client.click("drop_rows")
        assert client.state.rows == [{"a": 1}]  # rolled back


MODULE_CLIENT_SOURCE = """
import asyncio

initial_state = {"calls": 0}
page = '{% text calls id="calls" %}'
_client = {}


class _Pool:
    \"\"\"Stands for an HTTP client: bound to the loop that made it, as httpx's pool is.\"\"\"

    def __init__(self):
        self.loop = asyncio.get_running_loop()

    async def get(self):
        if asyncio.get_running_loop() is not self.loop:
            raise RuntimeError("attached to a different loop")
        await asyncio.sleep(0)


async def fetch(state):
    pool = _client.setdefault("pool", _Pool())
    await pool.get()
    asyncio.get_running_loop().create_task(asyncio.sleep(60))  # left behind: cancelled at the end
    state.calls += 1
"""


def test_the_test_client_keeps_one_loop_so_a_module_client_works_across_calls() -> None:
    """As on the platform (the release's own loop); asyncio.run gave each call a new loop."""
    with AppTestClient(MODULE_CLIENT_SOURCE) as client:
        client.click("fetch")
        client.click("fetch")
        assert client.state.calls == 2


TEST_CLIENT_AS_PLATFORM_SOURCE = """
import sys
from dashboards.sdk import emit_event, invoke_long_callback
initial_state = {"n": 0, "done": None}
page = '{% text n id="n" %}{% text done id="done" %}'


def big_event(state):
    state.n = 1
    emit_event("thing", "x" * 20000)


def work(kind):
    if kind == "big":
        return "y" * 300000
    if kind == "nan":
        return float("nan")
    sys.exit(3)


def status(state, status, result=None):
    state.done = status


def run(state, payload):
    invoke_long_callback(state, work, [payload], status)
"""


def test_the_test_client_fails_jobs_and_refuses_events_as_the_platform_does() -> None:
    with AppTestClient(TEST_CLIENT_AS_PLATFORM_SOURCE) as app:
        with pytest.raises(ValueError, match="attribute_value must fit in 8192 bytes"):
            app.click("big_event")
        assert app.state.n == 0  # undone
        for kind in ("big", "nan", "exit"):
            app.click("run", payload=kind)
            assert (app.jobs[-1]["status"], app.state.done) == ("failed", False), app.jobs[-1]
        assert [job["error"].split(":")[0] for job in app.jobs] == [
            "its result cannot be kept",
            "its result cannot be kept",
            "SystemExit",
        ]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("page = \"{% button 'x' on_click='nope' %}\"\n", "names unknown handler 'nope'"),
        ("page = \"{% button 'x' on_click='inc' %}\"\ndef inc(state, ctx):\n    pass\n", "'ctx'"),
        ("page = 'x'\ninitial_state = {'n': object()}\n", "cannot be serialised"),
    ],
)
def test_the_test_client_refuses_what_a_deploy_s_validation_refuses(source: str, reason: str) -> None:
    from dashboards.runtime.loader import AppLoadError

    with pytest.raises(AppLoadError, match=reason):
        AppTestClient(source)


STATUS_ARGUMENTS_SOURCE = """
from dashboards.sdk import invoke_long_callback

page = "{% text seen %}"
initial_state = {"seen": []}


def work(n):
    return n * 2


def on_status(state, status, label, result):
    state.seen = [*state.seen, [status if isinstance(status, bool) else "tick", label, result]]


def start(state):
    invoke_long_callback(state, work, [21], on_status, ["report"])
"""


def test_the_status_function_gets_its_arguments_then_the_result_as_in_taipy() -> None:
    client = AppTestClient(STATUS_ARGUMENTS_SOURCE)
    client.click("start")
    assert client.state["seen"][-1] == [True, "report", 42]


STATUS_ERROR_SOURCE = """
from dashboards.sdk import invoke_long_callback

page = "{% text seen %}"
initial_state = {"seen": []}


def work(n):
    if n < 0:
        raise ValueError("n must not be negative")
    return n * 2


def on_status(state, status, result, error=None):
    if isinstance(status, bool):
        state.seen = [*state.seen, [status, result, error]]


def start(state, payload):
    invoke_long_callback(state, work, [payload], on_status)
"""


def test_a_status_function_with_an_error_parameter_hears_why_its_job_failed() -> None:
    """Taipy gives a failed job's status function False and nothing else to tell the user."""
    client = AppTestClient(STATUS_ERROR_SOURCE)
    client.click("start", payload=-1)
    assert client.state["seen"] == [[False, None, "ValueError: n must not be negative"]]
    client.click("start", payload=4)
    assert client.state["seen"][-1] == [True, 8, None]


def test_error_never_takes_a_positional_slot() -> None:
    def taipy(state, status, result): ...
    def keyword(state, status, label, *, error): ...
    def named(state, status, error=None): ...

    assert status_call_arguments(taipy, "s", False, None, [], error="E") == (["s", False, None], {})
    assert status_call_arguments(keyword, "s", False, None, ["l"], error="E") == (
        ["s", False, "l"],
        {"error": "E"},
    )
    assert status_call_arguments(named, "s", True, 3, [], error=None) == (["s", True], {"error": None})


EMIT_BAD_INPUT_SOURCE = """
from dashboards.sdk import emit_event

page = "{% text x %}"
ARGUMENTS = {}


def emit(state):
    emit_event("m", 1, **ARGUMENTS)
"""


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"metadata": ["a", "b"]}, "metadata is a dict, not list"),
        ({"attribute_name": 5}, "attribute_name is a string, not int"),
    ],
)
def test_emit_event_refuses_bad_fields_clearly(kwargs, says) -> None:
    client = AppTestClient({"main.py": EMIT_BAD_INPUT_SOURCE})
    client.app.handlers["emit"].__globals__["ARGUMENTS"].update(kwargs)
    with pytest.raises(ValueError, match=says):
        client.click("emit")
    assert client.events == []


FAILING_SENDER_SOURCE = """
from dashboards.sdk import EventProcessor, emit_event, notify_team

initial_state = {"seen": 0}
page = "{% text seen %}"
processor = EventProcessor()


def on_ping(state, event):
    state.seen += 1


processor.on_custom_event("audit:ping", on_ping, broadcast=True)


def fail(state):
    notify_team("Analysts", "info", "sent by a failing handler")
    emit_event("audit:ping")
    raise ValueError("no")


def too_big(state):
    notify_team("Analysts", "info", "sent before a refused event")
    emit_event("audit:ping")
    emit_event("audit:ping", "x" * 20_000)


def ok(state):
    pass
"""


def test_a_handler_that_fails_sends_nothing_in_the_test_client_as_on_the_platform() -> None:
    """Its team notification and event were recorded (and the event delivered on the next click)."""
    client = AppTestClient({"main.py": FAILING_SENDER_SOURCE})
    with pytest.raises(ValueError, match="no"):
        client.click("fail")
    assert client.team_notifications == []
    assert client.events == []
    client.click("ok")
    assert client.state.seen == 0


def test_a_refused_event_undoes_everything_the_handler_sent() -> None:
    client = AppTestClient({"main.py": FAILING_SENDER_SOURCE})
    with pytest.raises(ValueError, match="8"):
        client.click("too_big")
    assert client.team_notifications == []
    assert client.events == []
    assert client.state.seen == 0


EMITTER_APP = """
from dashboards.sdk import EventEmitter, notify, notify_team

orders = EventEmitter("orders", service="threads", time_limit=5)
initial_state = {"placed": 0}
page = '{% metric placed id="placed" %}'


@orders.subscribe("order:placed")
def tell_analysts(order_id):
    notify_team("Analysts", "info", f"Order {order_id}")


@orders.subscribe("order:placed")
def fail_after_telling(order_id):
    notify_team("Analysts", "info", "from a subscriber that fails")
    raise LookupError("no stock")


def place(state):
    state.placed += 1
    orders.emit("order:placed", state.placed).wait(5)
    notify(state, "success", "Order placed")
"""

AUTHORS_TEST = """
from dashboards.testing import AppTestClient

with AppTestClient({"main.py": open("main.py").read()}) as app:
    app.click("place")
    assert app.state.placed == 1, app.state.placed
    assert app.toasts[-1]["message"] == "Order placed"
    assert [n["message"] for n in app.team_notifications] == ["Order 1"], app.team_notifications
print("passed")
"""


def test_an_app_with_an_emitter_is_tested_without_the_platforms_settings(tmp_path: Path) -> None:
    """An author's own test, outside the platform's pytest settings: Django imported, not set up."""
    (tmp_path / "main.py").write_text(EMITTER_APP)
    (tmp_path / "check.py").write_text(AUTHORS_TEST)
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environment["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "check.py"], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "passed"
