"""What a developer sees deploying in the admin: the Add form holding the active source, the message
after saving, a source that copies without its line numbers, and the release page's Activate button."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

LAB = (Path(__file__).parent / "apps" / "lab.py").read_text()
SELECT_AND_COPY = """pre => {
  const range = document.createRange();
  range.selectNodeContents(pre);
  getSelection().removeAllRanges();
  getSelection().addRange(range);
  let copied = null;
  document.addEventListener("copy", event => { copied = getSelection().toString(); }, {once: true});
  document.execCommand("copy");
  return copied;
}"""


def test_edit_the_active_source_save_it_as_a_draft_and_activate_it_from_its_page(page: Page) -> None:
    # "Drafts" holds the lab's code (tests/browser/apps/lab.py); no other test opens it.
    sign_in(page, "adam")  # developer of Acme
    page.goto("/admin/hosting/app/")
    page.get_by_role("row").filter(has_text="Drafts").get_by_role("link", name="Deploy a release").click()
    expect(page.get_by_test_id("release-prefill")).to_contain_text("edit it and save")
    source = page.get_by_label("Source")
    assert source.input_value() == LAB
    page.get_by_label("Activate").uncheck()
    page.get_by_role("button", name="Save", exact=True).click()

    message = page.locator(".messagelist li")
    expect(message).to_contain_text("is valid and saved, but not active: new sessions still get v")
    expect(message).to_contain_text('Press "Activate this release" on this page')

    shown = page.locator("pre.release-source").first
    number = shown.locator(".line").first.evaluate("line => getComputedStyle(line, '::before').content")
    assert number == '"1"'  # shown beside the line
    copied = shown.evaluate(SELECT_AND_COPY)
    assert copied == LAB.rstrip("\n")  # the code, without the numbers the page shows

    page.get_by_role("button", name="Activate this release").click()
    expect(page.locator(".messagelist li")).to_contain_text("is now active for new sessions.")
    expect(page.get_by_role("button", name="Activate this release")).to_have_count(0)
