"""The pages' layout in a real browser: a phone's width, toasts beside the header, the admin's icon."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import open_app_page, open_live_page
from tests.browser.test_notifications import notify

PHONE = {"width": 375, "height": 740}
ICON = re.compile(r"^/static/favicon\b.*\.svg$")  # with its hash in the name, as production serves it
# The pages a person opens most, and those with the widest tables (the platform's and the apps').
PHONE_PAGES = [
    "/t/acme/",
    "/t/acme/apps/sales/",
    "/t/acme/apps/planner/",
    "/t/acme/jobs/",
    "/t/acme/scenarios/",
    "/t/acme/events/",
    "/inbox/",
]


def sideways_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def assert_within_window(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]


def open_at_a_phones_width(context: BrowserContext, path: str) -> Page:
    page = context.new_page()
    page.set_viewport_size(PHONE)
    page.goto(path)
    if "/apps/" in path:
        page.wait_for_function("() => !!window.htmx && document.getElementById('connection-status').hidden")
        page.wait_for_timeout(300)  # the socket opens
    return page


@pytest.mark.parametrize("path", PHONE_PAGES)
def test_no_page_scrolls_sideways_at_a_phones_width(people, path: str) -> None:
    page = open_at_a_phones_width(people("alice"), path)  # owner of Acme: these pages, the Admin link
    assert sideways_overflow(page) <= 0, f"{path} is wider than a 375 px window"
    for link in ("#inbox-link", ".topbar .link-button"):  # the header wraps: its links stay in view
        assert_within_window(page, link)


def test_a_wide_table_scrolls_inside_its_own_box(people) -> None:
    page = open_at_a_phones_width(people("alice"), "/t/acme/apps/sales/")
    table = page.locator("#sales-table")
    expect(table.locator("tbody tr").first).to_be_visible()
    box = table.evaluate("(el) => [el.scrollWidth, el.clientWidth, getComputedStyle(el).overflowX]")
    assert box[0] > box[1] and box[2] == "auto"  # wider than the window, scrolled in its own box
    assert sideways_overflow(page) <= 0
    table.evaluate("(el) => { el.scrollLeft = el.scrollWidth; }")
    assert table.evaluate("(el) => el.scrollLeft") > 0

    jobs = open_at_a_phones_width(people("alice"), "/t/acme/jobs/")
    wrapper = jobs.locator(".jobs-table").evaluate("(el) => getComputedStyle(el.parentElement).overflowX")
    assert wrapper == "auto"  # the platform's tables scroll in their wrapper


@pytest.mark.parametrize("width", [1280, 375])
def test_toasts_leave_the_header_links_usable(people, platform, width: int) -> None:
    home = open_live_page(people("alice"), "/t/acme/")
    home.set_viewport_size({"width": width, "height": 740})
    for n in range(3):
        notify(platform, f"Top right {width} {n}: a message long enough to take a few lines of the toast")
    toasts = home.locator("#dashboards-toasts-top-right .toast")
    expect(toasts.filter(has_text=f"Top right {width} 2")).to_be_visible()
    header = home.locator(".topbar").bounding_box()
    stack = home.locator("#dashboards-toasts-top-right").bounding_box()
    assert header is not None and stack is not None and stack["y"] >= header["y"] + header["height"]
    for name, role in (("Inbox", "link"), ("Admin", "link"), ("Sign out", "button")):
        target = home.get_by_role(role, name=name)
        box = target.bounding_box()
        assert box is not None
        hit = home.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('a, button')?.textContent.trim()",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert hit is not None and hit.startswith(name), f"{name} is covered by {hit!r}"

    notify(platform, f"Bottom left {width}", "--position", "bottom-left")  # the other corners keep theirs
    corner = home.locator("#dashboards-toasts-bottom-left")
    expect(corner.locator(".toast").filter(has_text=f"Bottom left {width}")).to_be_visible()
    box = corner.bounding_box()
    assert box is not None and box["x"] < 40 and box["y"] + box["height"] > 740 - 40


def test_admin_pages_name_their_icon_and_request_no_missing_file(people) -> None:
    page = people("alice").new_page()
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    page.on("console", lambda message: missing.append(message.text) if message.type == "error" else None)
    for path in ("/admin/", "/admin/hosting/app/"):
        page.goto(path)
        expect(page.locator('link[rel="icon"]')).to_have_attribute("href", ICON)
    page.wait_for_timeout(500)  # the browser asks for an icon after the page loads
    assert missing == []


def test_a_text_component_sits_inside_the_paragraph_around_it(people) -> None:
    page = open_app_page(people("avery"), "/t/acme/apps/counter/")
    expect(page.locator("p > span#greeting")).to_have_count(1)
    expect(page.locator("#app-root p:empty")).to_have_count(0)  # no paragraph split in two around it
