"""The sales explorer demo: a Plotly chart click filters the table; the table downloads as CSV."""

from __future__ import annotations

import re
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


def test_a_keyboard_picks_a_bar_of_the_chart_as_a_click_does(page: Page) -> None:
    """A chart with on_click is a tab stop: arrows go from bar to bar, Enter picks one."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    open_app(page, app="sales", user="alice")
    expect(page.locator("#chart .point path")).to_have_count(4)
    chart = page.get_by_role("application", name="Revenue by region: click a bar to pick it")
    expect(chart).to_have_accessible_description(re.compile("^Arrow keys move from point to point"))
    page.get_by_role("link", name="Acme Corp", exact=True).last.focus()  # the page's last link before it
    page.keyboard.press("Tab")  # the chart is a tab stop (Plotly's toolbar buttons come after it)
    expect(chart).to_be_focused()
    announcer = page.locator("#dashboards-announcer")
    hover_label = page.locator("#chart .hoverlayer .hovertext")

    page.keyboard.press("ArrowRight")  # the first key shows the first bar
    expect(announcer).to_have_text(re.compile(r"^North: [\d,]+ \(1 of 4\)$"))
    expect(hover_label).to_contain_text("North")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(announcer).to_have_text(re.compile(r"^East: [\d,]+ \(3 of 4\)$"))
    page.keyboard.press("Enter")
    expect(page.locator("#heading")).to_have_text("Region: East")
    expect(page.locator("#sales-table tbody tr")).to_have_count(8)
    expect(page.locator("#chart .gtitle")).to_contain_text("East selected")  # the chart was swapped...
    expect(chart).to_be_focused()  # ...and the keyboard is still on it, at the same bar
    expect(hover_label).to_contain_text("East")

    page.keyboard.press("ArrowLeft")
    expect(announcer).to_have_text(re.compile(r"^South: [\d,]+ \(2 of 4\)$"))
    page.keyboard.press(" ")
    expect(page.locator("#heading")).to_have_text("Region: South")
    page.keyboard.press("End")
    expect(announcer).to_have_text(re.compile(r"^West: [\d,]+ \(4 of 4\)$"))
    page.keyboard.press("Escape")
    expect(hover_label).to_have_count(0)
    assert page.evaluate("window.scrollY") == 0  # Space and the arrows did not scroll the page
    assert errors == []


def test_a_keyboard_picks_a_region_with_the_select_too(page: Page) -> None:
    open_app(page, app="sales", user="alice")
    region = page.get_by_label("Region", exact=True)
    region.focus()
    region.select_option("West")
    expect(page.locator("#heading")).to_have_text("Region: West")
    expect(page.locator("#sales-table tbody tr")).to_have_count(8)
    assert page.evaluate("document.activeElement.id") == "region-input"  # still where the user is
