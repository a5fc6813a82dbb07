"""The sales explorer demo: a Plotly chart click filters the table; the table downloads as CSV."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_apps import open_app


def test_clicking_a_bar_filters_the_table_and_the_csv_follows(page: Page, tmp_path: Path) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    open_app(page, app="sales", user="alice")
    bars = page.locator("#chart .point path")
    expect(bars).to_have_count(4)
    rows = page.locator("#sales-table tbody tr")
    expect(rows).to_have_count(32)
    expect(page.get_by_role("table", name="Sales")).to_be_visible()  # its caption names it

    box = bars.nth(2).bounding_box()  # East; Plotly's drag layer takes the click, as for a person
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#heading")).to_have_text("Region: East")
    expect(rows).to_have_count(8)
    expect(page.locator("#sales-table tbody td:first-child")).to_have_text(["East"] * 8)
    expect(page.locator("#chart .gtitle")).to_contain_text("East selected")
    page.reload()  # the title is in the state: it came back as "click a bar" with a layout command
    expect(page.locator("#chart .gtitle")).to_contain_text("East selected")
    expect(rows).to_have_count(8)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "sales-east.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    lines = target.read_text().splitlines()
    assert lines[0] == "region,month,product,units,revenue"
    assert len(lines) == 9 and all(line.startswith("East,") for line in lines[1:])

    page.get_by_role("button", name="Show all regions").click()
    expect(rows).to_have_count(32)
    assert errors == []  # Plotly runs under the Content-Security-Policy


def test_pages_without_a_chart_do_not_load_plotly(page: Page) -> None:
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    open_app(page, app="counter")
    assert not [url for url in loaded if "plotly" in url]


def test_a_keyboard_picks_a_region_too_and_the_chart_is_named(page: Page) -> None:
    """A bar's click needs a mouse: the region select does the same from the keyboard."""
    open_app(page, app="sales", user="alice")
    expect(page.get_by_role("figure", name="Revenue by region: click a bar to pick it")).to_be_visible()
    region = page.get_by_label("Region", exact=True)
    region.focus()
    region.select_option("West")
    expect(page.locator("#heading")).to_have_text("Region: West")
    expect(page.locator("#sales-table tbody tr")).to_have_count(8)
    assert page.evaluate("document.activeElement.id") == "region-input"  # still where the user is
