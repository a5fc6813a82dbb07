"""A restart of the web process closes tabs as "service restart"; they reconnect and find their state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import sign_in
from tests.support import RestartableWeb


@pytest.fixture
def web(tmp_path: Path) -> Iterator[RestartableWeb]:
    running = RestartableWeb(tmp_path / "var").start()
    yield running
    running.stop()


def test_sigterm_closes_with_1012_and_the_state_survives_the_restart(
    browser: Browser, web: RestartableWeb
) -> None:
    context = browser.new_context(base_url=web.url)
    page = context.new_page()
    page.add_init_script(
        "document.addEventListener('htmx:wsClose', (e) => { (window.__codes = window.__codes || [])"
        ".push(e.detail.event.code); });"
    )
    sign_in(page, "avery")
    page.goto("/t/acme/apps/counter/")
    for _ in range(3):
        page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("3")

    web.stop_web()
    page.wait_for_function("() => (window.__codes || []).length > 0")
    assert page.evaluate("window.__codes[0]") == 1012  # sent as 4012, which Daphne can send
    expect(page.locator("#connection-status")).to_contain_text("Reconnecting")

    web.start_web()  # a new process: the tab reconnects by itself and its state comes from Redis
    expect(page.locator("#connection-status")).to_be_hidden(timeout=20_000)
    page.get_by_role("button", name="Add one").click()
    expect(page.locator("#count .dc-metric-value")).to_have_text("4")
    context.close()
