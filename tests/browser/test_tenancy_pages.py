"""What a person sees: signing in, choosing and switching tenants, app cards, signing out."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in


def test_sign_in_switch_tenants_and_sign_out(page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, "alice")  # owner of Acme, viewer of Globex
    expect(page.get_by_role("heading", name="Your tenants")).to_be_visible()
    page.get_by_role("link", name="Acme Corp").click()
    expect(page.get_by_role("heading", name="Acme Corp", level=1)).to_be_visible()
    expect(page.get_by_test_id("app-cards").locator("li")).to_have_count(7)  # demo apps, Lab, Edges, Drafts
    expect(page.get_by_text("Sales explorer")).to_be_visible()

    switcher = page.locator(".tenant-switcher details")
    page.get_by_test_id("current-tenant").click()  # the switcher in the header: a menu...
    expect(switcher).to_have_attribute("open", "")
    page.keyboard.press("Escape")  # ...that Escape closes, focus back on its button
    expect(switcher).not_to_have_attribute("open", "")
    assert page.evaluate("document.activeElement.dataset.testid") == "current-tenant"
    page.get_by_test_id("current-tenant").click()
    page.get_by_role("heading", name="Acme Corp", level=1).click()  # so does a click outside it
    expect(switcher).not_to_have_attribute("open", "")
    page.get_by_test_id("current-tenant").click()
    page.get_by_role("navigation", name="Tenants").get_by_role("link", name="Globex Inc").click()
    expect(page).to_have_url("/t/globex/")
    expect(page.get_by_test_id("app-cards").locator("li")).to_have_count(1)
    expect(page.get_by_text("Sales explorer")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/t/acme/")
    expect(page).to_have_url("/accounts/login/?next=/t/acme/")
    assert errors == []  # no CSP violation or script error on any page


def test_another_tenant_is_not_found(page: Page) -> None:
    sign_in(page, "avery")  # Acme only
    expect(page.get_by_role("heading", name="Acme Corp", level=1)).to_be_visible()
    response = page.goto("/t/globex/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_text("Globex")).to_have_count(0)
    page.get_by_test_id("current-tenant").click()
    expect(page.get_by_role("navigation", name="Tenants").get_by_role("link")).to_have_text(
        ["Acme Corp", "All tenants"]
    )


def test_wrong_password_shows_a_clear_error(page: Page) -> None:
    sign_in(page, "avery", password="not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
