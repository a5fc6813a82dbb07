"""The scenario components: how they render, and how sessions get and refresh the ``scenarios`` key."""

from __future__ import annotations

import re

from asgiref.sync import sync_to_async

from dashboards.runtime.components import page_uses_scenarios
from dashboards.runtime.page import compile_page
from dashboards.scenarios.services import scenario_create
from tests.runtime.conftest import click, open_page, open_socket

ROWS = [
    {"id": 7, "name": "Baseline", "status": "completed", "owner": "alice", "tags": ["demo"], "updated": "x"},
    {"id": 9, "name": "<b>Bold</b>", "status": "draft", "owner": "", "tags": [], "updated": "y"},
]


def test_the_selector_lists_scenarios_and_marks_the_chosen_one() -> None:
    page = compile_page('{% scenario_selector chosen label="Pick" on_change="pick" id="s" %}')
    assert page.readers == {"chosen": ["s"], "scenarios": ["s"]} and page_uses_scenarios(page)
    html = page.render_components(["s"], {"scenarios": ROWS, "chosen": "7"})
    assert '<option value="7" selected>Baseline (completed)</option>' in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html and "<b>" not in html
    assert 'data-event="ui:change" data-handler="pick"' in html and ">Pick<" in html


def test_the_selector_reads_the_scenario_key_by_default_and_filters_by_status() -> None:
    page = compile_page('{% scenario_selector status="completed" %}')
    assert set(page.readers) == {"scenario", "scenarios"}
    html = page.render({"scenarios": ROWS, "scenario": 7})
    assert "Baseline" in html and "Bold" not in html


def test_the_list_has_a_row_per_scenario_with_its_button() -> None:
    page = compile_page('{% scenario_list on_click="open" selected=chosen id="l" %}')
    html = page.render_components(["l"], {"scenarios": ROWS, "chosen": 9})
    assert html.count("<tr data-scenario-id=") == 2
    assert 'data-target="l-7" data-repeat-key="7"' in html and 'data-handler="open"' in html
    assert '<tr data-scenario-id="9" aria-current="true">' in html
    assert 'aria-label="Open Baseline"' in html  # which one it opens, for a screen reader
    assert 'id="l-open-7"' in html and 'id="l-open-9"' in html  # where focus returns after a redraw
    assert "No scenarios yet." in page.render({"scenarios": []})


def test_a_page_without_scenario_components_gets_no_scenarios_key() -> None:
    assert not page_uses_scenarios(compile_page("{% table scenarios %}"))


async def test_a_new_tab_shows_the_scenarios_and_the_list_button_reaches_its_handler(
    live_scenario_lab, live_world
) -> None:
    def seed() -> int:
        return scenario_create(tenant_id=live_world.acme.pk, app_id=live_scenario_lab.pk, name="Seeded").pk

    pk = await sync_to_async(seed)()
    html = (await sync_to_async(open_page)(live_world.avery, "acme", "scenario-lab"))[3]
    assert re.search(rf'<option value="{pk}">Seeded \(draft\)</option>', html)
    tab = await open_socket(live_world.avery, app="scenario-lab")
    frame = await click(tab, "open_it", target=f"list-{pk}", repeat_key=str(pk))
    assert f'<tr data-scenario-id="{pk}" aria-current="true">' in frame
    await tab.socket.disconnect()


async def test_refresh_scenarios_re_reads_and_renders_only_when_something_changed(
    live_scenario_lab, live_world
) -> None:
    from dashboards.runtime.db import db_call
    from dashboards.runtime.services import release_runtime, session_resume

    apps = type(live_scenario_lab).objects.select_related("tenant", "active_release")
    app = await sync_to_async(apps.get)(pk=live_scenario_lab.pk)
    runtime = await db_call(release_runtime)(app.active_release)
    session, _ = await session_resume(
        app=app, user=live_world.avery, session_id="s" * 16, runtime=runtime, fresh=False
    )
    assert await session.refresh_scenarios() == ""
    await sync_to_async(scenario_create)(tenant_id=app.tenant_id, app_id=app.pk, name="Fresh")
    frame = await session.refresh_scenarios()
    assert re.findall(r'<div id="([^"]+)" class="dc ', frame) == ["picker", "list"] and "Fresh" in frame
    assert session.state["scenarios"][0]["name"] == "Fresh"
    assert await session.refresh_scenarios() == ""
    again, _ = await session_resume(
        app=app, user=live_world.avery, session_id="s" * 16, runtime=runtime, fresh=True
    )
    assert again.state["scenarios"][0]["name"] == "Fresh"  # saved with the snapshot
