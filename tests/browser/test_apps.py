"""What a person sees in a dashboard app: live updates, per-tab state, errors, and isolation."""

from __future__ import annotations

import re
import time

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import sign_in

RECORD_SWAPS = """
window.__swapped = [];
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) if (n.id) window.__swapped.push(n.id);
}).observe(document.getElementById("app-root"), {childList: true, subtree: true});
"""


def open_app(page: Page, app: str = "counter", user: str = "avery") -> None:
    sign_in(page, user)
    page.goto(f"/t/acme/apps/{app}/")
    page.wait_for_function("() => !!window.htmx && document.getElementById('connection-status').hidden")
    page.wait_for_timeout(300)  # the socket opens


def test_a_click_updates_the_counter_by_swapping_only_its_fragment(page: Page) -> None:
    open_app(page)
    page.evaluate(RECORD_SWAPS)
    untouched = page.locator("#greeting").element_handle()
    page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("1")
    page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("2")
    assert page.evaluate("window.__swapped") == ["count", "count"]
    assert untouched.evaluate("node => node.isConnected")  # the greeting was never replaced


def test_a_screen_reader_hears_the_new_count_after_a_click(page: Page) -> None:
    """The metric is swapped in whole, and a new element says nothing: its words go to the page's
    one live region, there since the page loaded."""
    open_app(page)
    region = page.locator("#dashboards-announcer")
    expect(region).to_have_attribute("role", "status")
    expect(region).to_have_text("")
    page.get_by_role("button", name="Add one").click()
    expect(region).to_have_text("Clicks: 1")
    page.get_by_role("button", name="Add one").click()
    expect(region).to_have_text("Clicks: 2")
    expect(page.get_by_role("button", name="Add one")).to_be_focused()


def test_typing_updates_the_greeting(page: Page) -> None:
    open_app(page)
    page.get_by_label("Your name").fill("Ada")
    expect(page.locator("#greeting")).to_have_text("Hello, Ada!")


def test_two_tabs_keep_their_own_counters(context: BrowserContext, browser, platform) -> None:
    first = context.new_page()
    open_app(first)
    other_context = browser.new_context(base_url=platform.url)
    second = other_context.new_page()
    open_app(second)
    for _ in range(3):
        first.get_by_role("button", name="Add one").click()
    expect(first.locator("#count .dc-metric-value")).to_have_text("3")
    second.get_by_role("button", name="Add one").click()
    expect(second.locator("#count .dc-metric-value")).to_have_text("1")
    expect(first.locator("#count .dc-metric-value")).to_have_text("3")
    other_context.close()


def test_a_reload_restores_the_tabs_state(page: Page) -> None:
    open_app(page)
    for _ in range(2):
        page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("2")
    page.get_by_label("Your name").fill("Grace")
    expect(page.locator("#greeting")).to_have_text("Hello, Grace!")
    page.reload()
    expect(page.locator("#count .dc-metric-value")).to_have_text("2")
    expect(page.locator("#greeting")).to_have_text("Hello, Grace!")
    page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("3")


def test_a_duplicated_tab_starts_a_session_of_its_own(page: Page, context: BrowserContext) -> None:
    """The browser's Duplicate copies sessionStorage: the two tabs wrote over each other's state."""
    open_app(page)
    for _ in range(3):
        page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("3")
    copied = page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    duplicate = context.new_page()
    duplicate.add_init_script(f"Object.entries({copied}).forEach(([k, v]) => sessionStorage.setItem(k, v));")
    duplicate.goto("/t/acme/apps/counter/")
    duplicate.wait_for_function("() => !!window.htmx && document.getElementById('connection-status').hidden")
    duplicate.get_by_role("button", name="Add one").click()
    expect(duplicate.locator("#count .dc-metric-value")).to_have_text("1")
    page.reload()
    expect(page.locator("#count .dc-metric-value")).to_have_text("3")  # its own, not the duplicate's
    duplicate.reload()
    expect(duplicate.locator("#count .dc-metric-value")).to_have_text("1")


def test_a_failing_handler_shows_an_error_toast_and_the_page_keeps_working(page: Page) -> None:
    open_app(page, app="lab")
    page.get_by_role("button", name="Break").click()
    toast = page.get_by_role("alert").filter(has_text="this button always fails")
    expect(toast).to_be_visible()
    expect(toast.locator(".toast-level")).to_have_text("Error:")  # in words, not by colour alone
    expect(toast.locator(".toast-level")).to_be_visible()
    page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("1")  # the failed +100 was undone
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_have_count(0)


def test_a_page_too_slow_to_render_leaves_other_dashboards_answering(
    context: BrowserContext, browser, platform
) -> None:
    """The lab's page loops 25 million times over its new state: its render leaves the event
    loop, another person's counter keeps answering, and past the app's limit the change is undone."""
    slow = context.new_page()
    open_app(slow, app="lab")
    other_context = browser.new_context(base_url=platform.url)
    other = other_context.new_page()
    open_app(other, user="adam")
    slow.get_by_role("button", name="Heavy page").click()
    slow.wait_for_timeout(300)
    for count in ("1", "2", "3"):  # on the loop, the render would hold these for many seconds
        other.get_by_role("button", name="Add one").click()
        expect(other.locator("#count .dc-metric-value")).to_have_text(count, timeout=3000)
    toast = slow.get_by_role("alert").filter(has_text="took longer than")
    expect(toast).to_be_visible(timeout=30_000)
    slow.get_by_role("button", name="Add one").click()
    expect(slow.locator("#count .dc-metric-value")).to_have_text("1")  # the +100 was undone
    other_context.close()


def test_commands_the_page_cannot_run_are_skipped_and_the_rest_run(page: Page) -> None:
    open_app(page, app="lab")
    warnings: list[str] = []
    page.on("console", lambda message: message.type == "warning" and warnings.append(message.text))
    page.get_by_role("button", name="Odd commands").click()
    expect(page.locator("#note")).to_have_text("Noted")
    expect(page.get_by_role("status").filter(has_text="Odd commands sent")).to_be_visible()
    page.get_by_role("button", name="Add one").click()  # the buttons and the components are still there
    expect(page.locator("#count .dc-metric-value")).to_have_text("1")
    assert len([text for text in warnings if "dashboards:set-content not run" in text]) == 5, warnings


def test_toasts_from_handlers_stack_until_dismissed(page: Page) -> None:
    open_app(page, app="lab")
    page.get_by_role("button", name="Say hi").click()
    page.get_by_role("button", name="Say hi").click()
    toasts = page.locator("#dashboards-toasts-bottom-left .toast")
    expect(toasts).to_have_count(2)
    page.wait_for_timeout(500)
    expect(toasts).to_have_count(2)  # duration 0: they stay until dismissed


def test_markup_in_state_never_runs(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_app(page, app="lab")
    expect(page.locator("#shown")).to_have_text("<img src=x onerror=alert(1)>")
    for attack in ['<img src=x onerror=alert(2)>', '<script>alert(3)</script>', '" hx-on:click="alert(4)',
                   "<svg onload=alert(5)>"]:  # fmt: skip
        page.get_by_label("Type here").fill(attack)
        expect(page.locator("#typed")).to_have_text(attack)
        page.locator("#typed").click()
        page.locator("#typed-md").click()
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.locator("#app-root img, #app-root script, #app-root svg").count() == 0


def test_a_member_of_another_tenant_cannot_open_the_app(page: Page, platform) -> None:
    sign_in(page, "gwen")  # Globex only
    response = page.goto("/t/acme/apps/counter/")
    assert response is not None and response.status == 404
    closed = page.evaluate(
        """() => new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/ws/t/acme/apps/counter/?sid=abcdefghijkl&fresh=1`);
            ws.onclose = (event) => resolve(event.code);
        })"""
    )
    assert closed == 4404


COUNT_SOCKETS = """
window.__socketsOpened = 0;
const Native = window.WebSocket;
window.WebSocket = function (...args) { window.__socketsOpened++; return new Native(...args); };
window.WebSocket.prototype = Native.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
"""


def test_the_socket_opened_by_the_pages_head_is_the_one_htmx_uses(page: Page) -> None:
    """The head opens the socket before the page's scripts arrive; what the server sends before
    htmx is there (the restored state, after a reload) is swapped in when it takes the socket over."""
    open_app(page)
    for _ in range(2):
        page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("2")
    page.add_init_script(COUNT_SOCKETS)

    def late(route) -> None:  # the platform script arrives long after the socket's first frame
        time.sleep(0.8)
        route.continue_()

    page.route("**/static/js/dashboards.*.js", late)
    page.reload()
    expect(page.locator("#count .dc-metric-value")).to_have_text("2")
    page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("3")
    assert page.evaluate("window.__socketsOpened") == 1


def test_an_app_shared_by_link_opens_for_a_visitor_who_is_not_signed_in(people, browser, platform) -> None:
    """A developer shares the counter in the admin; someone without an account uses it; switching
    it back to members closes their tab with a message."""
    from tests.browser.conftest import open_app_page

    admin_page = people("adam").new_page()
    admin_page.goto("/admin/hosting/app/")
    admin_page.get_by_role("link", name="Counter and greeting").click()
    admin_page.get_by_label("Access").select_option(label="Anyone with the link")
    admin_page.get_by_role("button", name="Save and continue editing").click()
    link = admin_page.get_by_test_id("shared-link").get_attribute("href")
    assert link and link.startswith(f"{platform.url}/l/")  # the full address, to send
    expect(admin_page.get_by_test_id("shared-link")).to_have_text(link)

    visitor_browser = browser.new_context(base_url=platform.url)
    try:
        visitor = open_app_page(visitor_browser, link)
        expect(visitor.get_by_role("link", name="Sign in")).to_be_visible()  # not signed in
        visitor.get_by_role("button", name="Add one").click()
        visitor.get_by_role("button", name="Add one").click()
        expect(visitor.locator("#count .dc-metric-value")).to_have_text("2")

        region = visitor.locator('div[role="status"]:has(#connection-status)').element_handle()
        admin_page.get_by_label("Access").select_option(label="All members of the tenant")
        admin_page.get_by_role("button", name="Save and continue editing").click()
        expect(visitor.locator("#connection-status")).to_contain_text("no longer have access")
        assert region.evaluate("node => node.textContent.includes('no longer have access')")  # read out
        assert visitor_browser.new_page().goto(link).status == 404
    finally:
        visitor_browser.close()


def test_a_visitor_by_link_sees_that_a_handler_failed_but_not_how(people, browser, platform) -> None:
    """Anyone may hold a shared link: the toast of a failing handler names no exception."""
    from tests.browser.conftest import open_app_page

    admin_page = people("adam").new_page()
    admin_page.goto("/admin/hosting/app/")
    admin_page.get_by_role("link", name="Lab", exact=True).click()
    admin_page.get_by_label("Access").select_option(label="Anyone with the link")
    admin_page.get_by_role("button", name="Save and continue editing").click()
    visitor_browser = browser.new_context(base_url=platform.url)
    try:
        link = admin_page.get_by_test_id("shared-link").get_attribute("href")
        visitor = open_app_page(visitor_browser, link)
        visitor.get_by_role("button", name="Break").click()
        toast = visitor.get_by_role("alert").filter(has_text="Something went wrong in this app")
        expect(toast).to_contain_text("its developers have been told")
        expect(toast).not_to_contain_text("always fails")
        visitor.get_by_role("button", name="Add one").click()  # the tab goes on
        expect(visitor.locator("#count .dc-metric-value")).to_have_text("1")
    finally:
        visitor_browser.close()
        admin_page.get_by_label("Access").select_option(label="All members of the tenant")
        admin_page.get_by_role("button", name="Save and continue editing").click()


def test_the_shared_link_is_copied_whole_by_its_button(people, platform) -> None:
    """The admin shows an app's shared link as the full address, and its Copy link button (a
    static script: the page's Content-Security-Policy runs no inline one) puts it on the clipboard."""
    adam = people("adam")
    adam.grant_permissions(["clipboard-read", "clipboard-write"], origin=platform.url)
    admin_page = adam.new_page()
    errors: list[str] = []
    admin_page.on("console", lambda line: line.type == "error" and errors.append(line.text))
    admin_page.goto("/admin/hosting/app/")
    admin_page.get_by_role("link", name="Sales explorer").click()
    admin_page.get_by_label("Access").select_option(label="Anyone with the link")
    admin_page.get_by_role("button", name="Save and continue editing").click()
    try:
        link = admin_page.get_by_test_id("shared-link")
        expect(link).to_have_text(re.compile(rf"^{re.escape(platform.url)}/l/[A-Za-z0-9_-]+/$"))
        admin_page.get_by_role("button", name="Copy link").click()
        expect(admin_page.get_by_role("status").filter(has_text="Copied.")).to_be_visible()
        assert admin_page.evaluate("navigator.clipboard.readText()") == link.text_content()
        assert not errors, errors  # nothing refused by the Content-Security-Policy
    finally:
        admin_page.get_by_label("Access").select_option(label="All members of the tenant")
        admin_page.get_by_role("button", name="Save and continue editing").click()
