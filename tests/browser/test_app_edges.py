"""What a person sees at the edges: answers larger than what a browser may send, a broken chart,
a long toast, and a connection that drops while an answer is on its way."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from tests.browser.conftest import sign_in
from tests.browser.test_apps import open_app


def test_large_answers_a_broken_chart_and_a_long_toast(page: Page) -> None:
    open_app(page, app="edges")  # tests/browser/apps/edges.py, deployed with the platform
    # One figure Plotly cannot draw leaves the other drawn, and says so where the chart would be.
    expect(page.locator("#fine .main-svg").first).to_be_attached()
    expect(page.locator("#broken")).to_contain_text("This chart cannot be drawn.")

    # An answer over the 64 KiB a browser may send (Daphne's limit is on incoming frames only).
    page.get_by_role("button", name="Many rows").click()
    expect(page.locator("#rows tbody tr")).to_have_count(900)
    with page.expect_download() as download:
        page.get_by_role("button", name="Big download").click()
    assert Path(download.value.path()).stat().st_size == 2 * 1024 * 1024

    # A long word wraps inside the toast: its dismiss button stays in the window and works.
    page.get_by_role("button", name="Long toast").click()
    toast = page.get_by_role("alert").filter(has_text="very-long-folder-name")
    expect(toast).to_be_visible()
    close = toast.get_by_role("button")
    box = close.bounding_box()
    assert box is not None and box["x"] + box["width"] <= page.viewport_size["width"]
    close.click()
    expect(toast).to_have_count(0)

    page.reload()  # the restored page, over 64 KiB too, comes back whole
    expect(page.locator("#rows tbody tr")).to_have_count(900)
    expect(page.locator("#connection-status")).to_be_hidden()


def test_a_layout_update_applies_to_the_figure_swapped_in_by_the_same_answer(page: Page) -> None:
    open_app(page, app="edges")
    expect(page.locator("#fine .gtitle")).to_have_text("Fine")
    page.get_by_role("button", name="Double").click()
    expect(page.locator("#fine .gtitle")).to_have_text("Doubled")


def test_an_async_handler_that_blocks_holds_up_no_other_app(page: Page) -> None:
    """On the server's loop, a blocking call in one app's async handler froze every app's tabs."""
    open_app(page, app="edges")
    other = page.context.new_page()
    open_app(other, app="lab")
    page.get_by_role("button", name="Stall").click()  # blocks its handler for 4 s
    page.wait_for_timeout(200)  # the click is on the server
    other.get_by_role("button", name="Add one").click()
    expect(other.locator("#count .dc-metric-value")).to_have_text("1", timeout=3000)
    expect(page.locator("#stalled")).to_have_text("")  # still blocked: the other app did not wait
    expect(page.locator("#stalled")).to_have_text("stalled for 4 s", timeout=10_000)
    other.close()


def test_an_answer_lost_with_the_connection_is_made_good_by_the_reconnect(page: Page) -> None:
    """The connection drops after the server answered a click and before the page got it: the
    reconnect (fresh=0) gets every component again, so the page shows what the server holds."""
    queries: list[str] = []
    drop_next_answer = {"on": False}

    def from_server(socket: WebSocketRoute, message: str | bytes) -> None:
        if drop_next_answer["on"]:
            drop_next_answer["on"] = False
            socket.close(code=1001, reason="a proxy went away")  # the answer is lost with it
            return
        socket.send(message)

    open_counter_through(page, from_server, opened=lambda socket: queries.append(socket.url.split("?", 1)[1]))
    add = page.get_by_role("button", name="Add one")
    add.click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("1")
    drop_next_answer["on"] = True
    add.click()  # the server counts 2; the page never hears of it
    # 1001 is not a code the platform closes with: the page reconnects instead of going dead.
    expect(page.locator("#count .dc-metric-value")).to_have_text("2", timeout=20_000)
    expect(page.locator("#connection-status")).to_be_hidden()
    assert [query.split("fresh=")[1][:1] for query in queries] == ["1", "0"]
    add.click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("3")


def test_a_paste_larger_than_the_server_accepts_is_refused_in_the_page_and_the_tab_goes_on(
    page: Page,
) -> None:
    """The server closes a socket sent more than 64 KiB at once (1009): the tab went dead."""
    open_app(page)
    page.get_by_label("Your name").fill("x" * 70_000)
    refused = page.get_by_role("alert").filter(has_text="too large to send")
    expect(refused).to_be_visible()
    expect(refused.locator(".toast-level")).to_have_text("Error:")  # as the server's toasts
    page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("1")
    expect(page.locator("#connection-status")).to_be_hidden()


def test_an_element_of_the_page_sends_an_app_event_with_data_emit(page: Page) -> None:
    open_app(page, app="edges")
    page.get_by_role("button", name="Export").click()
    expect(page.locator("#exported")).to_have_text("exported as csv")


def test_keyboard_focus_stays_on_a_field_the_app_sends_back_and_returns_from_a_dismissed_toast(
    page: Page,
) -> None:
    """Focus fell to <body> when the element holding it was swapped, or a toast closed."""
    open_app(page)
    name = page.get_by_label("Your name")
    name.fill("  Bob  ")
    name.press("Enter")  # the handler trims it: the field is sent back, and keeps the focus
    expect(name).to_have_value("Bob")
    assert page.evaluate("document.activeElement.id") == "name-input"

    open_app(page, app="edges")
    long_toast = page.get_by_role("button", name="Long toast")
    long_toast.focus()
    long_toast.press("Enter")
    close = page.get_by_role("alert").filter(has_text="very-long-folder-name").get_by_role("button")
    close.focus()
    close.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="very-long-folder-name")).to_have_count(0)
    assert page.evaluate("document.activeElement.textContent") == "Long toast"


UNDER_THE_TOASTS = """(id) => {
    const stack = document.getElementById("dashboards-toasts-top-right").getBoundingClientRect();
    const holder = document.getElementById(id);
    const button = holder.matches("button") ? holder : holder.querySelector("button");
    const box = button.getBoundingClientRect();
    window.scrollBy(0, box.top + box.height / 2 - (stack.top + stack.height / 2));
    button.focus({ preventScroll: true });  // as Tab reaches it, under the toasts
    const now = button.getBoundingClientRect();
    const covered = now.top < stack.bottom && now.bottom > stack.top;
    return covered && now.left < stack.right && now.right > stack.left ? true : [stack, now, window.scrollY];
}"""


def test_toasts_covering_the_focused_control_fade_and_let_it_be_seen(page: Page) -> None:
    """At 200 % zoom (or on a phone) a stack of toasts spans the window: Tab reached controls under it."""
    page.set_viewport_size({"width": 375, "height": 667})
    open_app(page, app="edges")
    page.get_by_role("button", name="Many rows").click()  # a page long enough to scroll anywhere
    expect(page.locator("#rows tbody tr")).to_have_count(900)
    page.get_by_role("button", name="Long toast").click()  # stays until dismissed
    stack = page.locator("#dashboards-toasts-top-right")
    expect(stack.get_by_role("alert")).to_be_visible()
    expect(stack).to_have_css("opacity", "1")
    under = page.evaluate(UNDER_THE_TOASTS, "many")
    assert under is True, under
    expect(stack).to_have_css("opacity", "0.15")  # the focused button shows through
    expect(stack).to_have_css("pointer-events", "none")
    stack.get_by_role("button", name="Dismiss").focus()  # into the toast: it is itself again
    expect(stack).to_have_css("opacity", "1")


def type_after_enter_on_a_slow_link(page: Page, *, then_wait_ms: int) -> Locator:
    """ "Ann ", Enter (the field is sent back trimmed, as "Ann"), "Lee": the server's answers are held
    until ``then_wait_ms`` after the typing (a slow link), then delivered. The name field."""
    held: dict[str, Any] = {"on": False, "messages": [], "socket": None}

    def from_server(socket: WebSocketRoute, message: str | bytes) -> None:
        held["socket"] = socket
        if held["on"]:
            held["messages"].append(message)  # a slow link: the answer comes after more typing
        else:
            socket.send(message)

    open_counter_through(page, from_server)
    name = page.get_by_label("Your name")
    name.click()
    page.keyboard.type("Ann ")
    held["on"] = True
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    page.keyboard.type("Lee")
    page.wait_for_timeout(then_wait_ms)
    held["on"] = False
    for message in held["messages"]:
        held["socket"].send(message)
    page.wait_for_timeout(300)
    return name


def test_typing_on_after_enter_or_a_blur_loses_no_keystroke_and_sends_nothing_malformed(page: Page) -> None:
    """The field sent back for a settled change replaced what was typed after it; and a field
    replaced with its typing's send still pending sent htmx's own message from the detached element,
    which the server refused with an error toast."""
    name = type_after_enter_on_a_slow_link(page, then_wait_ms=0)  # "Lee" still waits to be sent
    expect(name).to_have_value("Ann Lee")
    expect(page.locator("#greeting")).to_have_text("Hello, Ann Lee!")

    page.evaluate("""() => {
      const field = document.getElementById("name-input");
      field.value = "Zed";
      field.dispatchEvent(new Event("input", {bubbles: true}));  // its send waits for 150 ms of quiet
      const holder = document.getElementById("name");  // an answer replaces the field meanwhile
      htmx.swap(holder, holder.outerHTML, {swapStyle: "outerHTML"});
    }""")
    page.wait_for_timeout(500)  # the replaced field's pending send would have gone by now
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("#greeting")).to_have_text("Hello, Ann Lee!")


def test_typing_sent_before_the_answer_to_enter_comes_is_kept(page: Page) -> None:
    """On a slow link the answer to Enter (the field sent back, trimmed) came after the typing that
    followed it had gone out: it put back the old text, which the server no longer held."""
    name = type_after_enter_on_a_slow_link(page, then_wait_ms=500)  # typing's delay is 150 ms: sent
    expect(name).to_have_value("Ann Lee")
    expect(page.locator("#greeting")).to_have_text("Hello, Ann Lee!")


def open_counter_through(
    page: Page,
    from_server: Callable[[WebSocketRoute, str | bytes], None],
    *,
    opened: Callable[[WebSocketRoute], None] | None = None,
) -> None:
    """The counter as avery, its socket relayed: the page's messages go on as sent, the server's
    through ``from_server`` (which sends, holds or drops them)."""

    def relay(socket: WebSocketRoute) -> None:
        if opened is not None:
            opened(socket)
        server = socket.connect_to_server()
        server.on_message(lambda message: from_server(socket, message))
        socket.on_message(server.send)

    page.route_web_socket("**/ws/t/acme/apps/counter/**", relay)
    sign_in(page, "avery")
    page.goto("/t/acme/apps/counter/")
    page.wait_for_function("() => !!window.htmx && document.getElementById('connection-status').hidden")


def open_edges_charts(page: Page) -> tuple[list[str], Locator]:
    """The edges app with its charts drawn (keys pressed before do nothing), the two-series one
    focused; the console's errors, and the live region the keys' words go to."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    open_app(page, app="edges")
    expect(page.locator("#series .scatterlayer .trace")).to_have_count(2)
    expect(page.locator("#bars .point path")).to_have_count(4)
    expect(page.locator("#pie .slice")).to_have_count(2)
    page.get_by_role("application", name="Costs and sales").focus()
    return errors, page.locator("#dashboards-announcer")


def test_the_keyboard_goes_from_series_to_series_and_picks_a_pie_s_slice(page: Page) -> None:
    """Up and Down change series, named when there are several; a pie's slices are points too."""
    errors, announcer = open_edges_charts(page)
    page.keyboard.press("ArrowRight")
    expect(announcer).to_have_text("Costs, Q1: 3 (1 of 3)")
    page.keyboard.press("ArrowDown")  # the same quarter of the next series
    expect(announcer).to_have_text("Sales, Q1: 5 (1 of 3)")
    page.keyboard.press("End")
    expect(announcer).to_have_text("Sales, Q3: 1,500.5 (3 of 3)")
    page.keyboard.press("ArrowRight")  # past the last point: it stays there
    page.keyboard.press("Enter")
    expect(page.locator("#picked")).to_have_text("series: 1 2 Q3 1500.5")
    page.keyboard.press("ArrowUp")
    expect(announcer).to_have_text("Costs, Q3: 2 (3 of 3)")

    page.get_by_role("application", name="Beers sold").focus()
    page.keyboard.press("End")
    expect(announcer).to_have_text("Stout: 3 (2 of 2)")
    page.keyboard.press(" ")
    expect(page.locator("#picked")).to_have_text("pie: 0 1 Stout None")
    assert errors == []


def test_shift_and_the_arrows_select_a_run_of_points_for_on_selected(page: Page) -> None:
    """What a mouse's box selection sends, from the keyboard; a move without Shift lets go of it."""
    errors, announcer = open_edges_charts(page)
    page.keyboard.press("End")
    expect(announcer).to_have_text("Costs, Q3: 2 (3 of 3)")
    page.keyboard.press("Shift+ArrowLeft")  # a run of points, from where the keys are
    expect(announcer).to_have_text("Q2 to Q3 selected (2 points)")
    page.keyboard.press("Shift+Home")
    expect(announcer).to_have_text("Q1 to Q3 selected (3 points)")
    page.keyboard.press("Enter")
    expect(page.locator("#picked")).to_have_text("series: selected 0 [0, 1, 2] ['Q1', 'Q2', 'Q3']")
    page.keyboard.press("ArrowRight")  # a move without Shift lets go of the run: Enter clicks again
    expect(announcer).to_have_text("Costs, Q2: 4 (2 of 3)")
    page.keyboard.press("Enter")
    expect(page.locator("#picked")).to_have_text("series: 0 1 Q2 4")

    bars = page.get_by_role("application", name="Units by month")  # on_selected only
    expect(bars).to_have_accessible_description(re.compile("Shift with Left, Right, Home or End selects"))
    bars.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")  # no run: the point, as a selection of one
    expect(page.locator("#picked")).to_have_text("bars: selected 0 [1] ['Feb']")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    expect(announcer).to_have_text("Feb to Apr selected (3 points)")
    opacity = "[...document.querySelectorAll('#bars .point path')].map(p => getComputedStyle(p).opacity)"
    assert page.evaluate(opacity) == ["0.2", "1", "1", "1"]  # drawn as Plotly draws a selection
    page.keyboard.press(" ")
    expect(page.locator("#picked")).to_have_text("bars: selected 0 [1, 2, 3] ['Feb', 'Mar', 'Apr']")
    page.keyboard.press("Escape")
    expect(page.locator("#bars .hoverlayer .hovertext")).to_have_count(0)
    page.wait_for_function(f"{opacity}.every(o => o === '1')")  # the run let go of
    assert errors == []
