"""The app page: what it holds around the app's components."""

from __future__ import annotations

from tests.runtime.conftest import open_page


def test_the_app_pages_live_regions_are_there_from_the_start(world) -> None:
    """A screen reader reads out what changes inside a live region already in the page: not a
    hidden one unhidden with its text (the connection's status), nor one swapped in whole."""
    *_, html = open_page(world.avery, "acme", "counter")
    assert '<div role="status"><p id="connection-status" class="connection-status" hidden></p></div>' in html
    announcer = '<p id="dashboards-announcer" class="visually-hidden" role="status" aria-atomic="true"></p>'
    assert announcer in html
