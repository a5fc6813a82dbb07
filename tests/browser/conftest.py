"""Real-browser tests: Playwright drives Debian's Chromium against the real running platform.

The browser is never downloaded (`playwright install` cannot work here): `make browser-deps`
installs Debian's `chromium`, and Playwright launches that binary.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import redis_is_embedded
from tests.support import RunningPlatform

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.timeout(180))


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    from django.conf import settings

    running = RunningPlatform(
        tmp_path_factory.mktemp("platform") / "var", None if redis_is_embedded() else settings.REDIS_URL
    )
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (Debian's chromium package)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser, platform: RunningPlatform) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=platform.url)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, username: str, password: str | None = None) -> None:
    from dashboards.ops.demo import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def people(browser: Browser, platform: RunningPlatform) -> Iterator[dict[str, BrowserContext]]:
    """One browser (its own cookies) per person."""
    contexts: dict[str, BrowserContext] = {}

    def open_for(name: str) -> BrowserContext:
        if name not in contexts:
            contexts[name] = browser.new_context(base_url=platform.url)
            contexts[name].set_default_timeout(10_000)
            sign_in(contexts[name].new_page(), name)
        return contexts[name]

    yield open_for  # type: ignore[misc]
    for context in contexts.values():
        context.close()


def open_live_page(context: BrowserContext, path: str) -> Page:
    page = context.new_page()
    page.goto(path)
    page.wait_for_function("() => document.documentElement.dataset.live === 'open'")
    return page


def open_app_page(context: BrowserContext, path: str) -> Page:
    page = context.new_page()
    page.goto(path)
    page.wait_for_function("() => !!window.htmx && document.getElementById('connection-status').hidden")
    page.wait_for_timeout(300)  # the socket opens
    return page
