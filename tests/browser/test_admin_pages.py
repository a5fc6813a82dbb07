"""The admin as its people see it: pages an owner and a developer open, for everyone who uses them."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in


def test_an_owner_opens_their_tenants_page_in_the_admin(page: Page) -> None:
    """It was a server error for every owner who is not a superuser (their slug is read-only)."""
    sign_in(page, "alice")  # owner of Acme
    page.goto("/admin/tenancy/tenant/")
    page.get_by_role("link", name="Acme Corp").click()
    expect(page.get_by_role("heading", name="Change tenant")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Acme Corp")
    expect(page.locator(".field-slug .readonly")).to_have_text("acme")


def test_admin_pages_name_their_controls_and_mark_their_links(page: Page) -> None:
    """axe-core's findings on the admin: a two-box selector's search icons named on a bare span
    (ignored by screen readers), breadcrumb links told apart from their text by colour alone,
    and the apps list's column of links without a header."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, "adam")  # a developer of Acme
    page.goto("/admin/hosting/app/")
    expect(page.get_by_role("columnheader", name="Links")).to_be_visible()
    page.get_by_role("link", name="Lab", exact=True).click()  # tests/browser/apps/lab.py
    for which in ("available", "selected"):
        name = f"Type into this box to filter down the list of {which} teams."
        expect(page.get_by_role("img", name=name)).to_be_visible()  # an image, with its name
    crumb = page.locator(".breadcrumbs a").first
    assert crumb.evaluate("link => getComputedStyle(link).textDecorationLine") == "underline"
    assert errors == []


def test_a_date_and_times_boxes_are_named_for_screen_readers(page: Page) -> None:
    """A user's last login: "Date:" and "Time:" were bare text, the boxes had no name (axe: critical)."""
    sign_in(page, "admin")  # the platform's superuser
    page.goto("/admin/auth/user/")
    page.get_by_role("link", name="avery", exact=True).click()
    expect(page.get_by_role("textbox", name="Date joined, date")).to_be_visible()
    expect(page.get_by_role("textbox", name="Date joined, time")).to_be_visible()
