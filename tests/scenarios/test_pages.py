"""The tenant's Scenarios pages and the live ``scenarios`` topic that keeps them current."""

from __future__ import annotations

from django.test import Client

from dashboards.events.models import LoggedEvent
from dashboards.hosting.models import App, AppAccess
from dashboards.live.topics import topic_renderer
from dashboards.scenarios import services
from dashboards.scenarios.pages import render_scenarios_topic


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def planner(world) -> App:
    return App.objects.get(tenant=world.acme, slug="planner")


def last_event(**lookup) -> dict:
    return LoggedEvent.objects.filter(**lookup).latest("pk").as_event().as_message()


def test_the_page_lists_the_tenants_scenarios_with_filters_and_links(world) -> None:
    app = planner(world)
    done = services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Done plan")
    page = client_for(world.avery).get("/t/acme/scenarios/")
    assert page.status_code == 200
    assert "Baseline" in page.text and "Done plan" in page.text  # the demo's and ours
    assert f'href="/t/acme/scenarios/{done.pk}/"' in page.text and "/ws/live/" in page.text
    assert "topics=scenarios" in page.text
    filtered = client_for(world.avery).get("/t/acme/scenarios/?status=completed")
    assert "Done plan" not in filtered.text
    assert "No scenarios match these filters." in filtered.text  # not "No scenarios yet"
    assert 'href="/t/acme/scenarios/"' in client_for(world.avery).get("/t/acme/").text


def test_a_scenarios_page_shows_its_parameters_results_and_job(world) -> None:
    app = planner(world)
    scenario = services.scenario_create(
        tenant_id=app.tenant_id, app_id=app.pk, name="Deep", parameters={"growth": 7}
    )
    job = services.scenario_submit(
        scenario=scenario, function="main:forecast", release_id=app.active_release_id, user_id=None
    )
    page = client_for(world.avery).get(f"/t/acme/scenarios/{scenario.pk}/")
    assert page.status_code == 200
    assert "&quot;growth&quot;: 7" in page.text and f"/t/acme/jobs/{job.pk}/" in page.text
    body = client_for(world.avery).get(f"/t/acme/scenarios/{scenario.pk}/?part=body")
    assert body.text.startswith('<div id="scenario-body"') and "Submitted" in body.text


def test_parameters_and_results_read_as_indented_json_escaped(world) -> None:
    app = planner(world)
    scenario = services.scenario_create(
        tenant_id=app.tenant_id,
        app_id=app.pk,
        name="Shown",
        parameters={"growth": -50, "note": "<b>é</b>", "on": True, "cap": None},
    )
    scenario.status, scenario.results = "completed", {"total": 12.5, "months": [1, 2]}
    scenario.save()
    text = client_for(world.avery).get(f"/t/acme/scenarios/{scenario.pk}/?part=body").text
    # Indented JSON, escaped; in any key order (PostgreSQL's jsonb keeps its own).
    for line in ["  &quot;growth&quot;: -50", "  &quot;note&quot;: &quot;&lt;b&gt;é&lt;/b&gt;&quot;",
                 "  &quot;on&quot;: true", "  &quot;cap&quot;: null"]:  # fmt: skip
        assert line in text, line
    assert "&quot;total&quot;: 12.5" in text and "<b>" not in text and "True" not in text
    scenario.results = None
    scenario.save()
    assert "Nothing returned." in client_for(world.avery).get(f"/t/acme/scenarios/{scenario.pk}/").text


def test_other_tenants_and_hidden_apps_answer_404(world) -> None:
    app = planner(world)
    scenario = services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Acme only")
    assert client_for(world.greta).get(f"/t/acme/scenarios/{scenario.pk}/").status_code == 404
    assert client_for(world.alice).get(f"/t/globex/scenarios/{scenario.pk}/").status_code == 404
    app.access = AppAccess.TEAMS
    app.save()
    app.teams.clear()
    assert client_for(world.avery).get(f"/t/acme/scenarios/{scenario.pk}/").status_code == 404
    assert "Acme only" not in client_for(world.avery).get("/t/acme/scenarios/").text


def test_the_topic_renders_a_new_row_an_updated_row_and_removes_a_deleted_one(world) -> None:
    assert topic_renderer("scenarios") is render_scenarios_topic
    app = planner(world)
    scenario = services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Live one")
    created = last_event(entity_type="scenario", operation="creation", entity_id=str(scenario.pk))
    html = render_scenarios_topic(user=world.avery, tenant=world.acme, data=created)
    assert 'hx-swap-oob="afterbegin:#scenarios-rows"' in html and "Live one" in html
    services.scenario_write_parameters(scenario=scenario, values={"growth": 3})
    node = last_event(entity_type="data_node")
    html = render_scenarios_topic(user=world.avery, tenant=world.acme, data=node)
    assert f'<tr id="scenario-{scenario.pk}"' in html and 'hx-swap-oob="true"' in html
    assert render_scenarios_topic(user=world.greta, tenant=world.acme, data=node) == ""  # not a member
    assert render_scenarios_topic(user=world.avery, tenant=world.globex, data=node) == ""  # other tenant
    pk = scenario.pk
    services.scenario_delete(scenario=scenario)
    deleted = last_event(entity_type="scenario", operation="deletion")
    html = render_scenarios_topic(user=world.avery, tenant=world.acme, data=deleted)
    assert html.startswith(f'<tr id="scenario-{pk}" hx-swap-oob="delete"></tr>')


def test_a_deleted_scenarios_page_is_told_so_at_the_top_with_the_way_back(world) -> None:
    """The topic only removed the row: the page kept showing the scenario and, reading its body
    again for the row that changed, got a 404."""
    app = planner(world)
    scenario = services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Gone soon")
    pk = scenario.pk
    page = client_for(world.avery).get(f"/t/acme/scenarios/{pk}/")
    assert f'<p id="scenario-{pk}-deleted" hidden></p>' in page.text  # where the notice goes
    services.scenario_delete(scenario=scenario)
    deleted = last_event(entity_type="scenario", operation="deletion")
    html = render_scenarios_topic(user=world.avery, tenant=world.acme, data=deleted)
    assert (
        f'<p id="scenario-{pk}-deleted" class="connection-status final scenario-deleted" role="alert"' in html
    )
    assert 'hx-swap-oob="true">This scenario was deleted' in html and 'href="/t/acme/scenarios/"' in html
    assert "Gone soon" not in html  # sent to every member's pages: no more than the id
    assert render_scenarios_topic(user=world.greta, tenant=world.acme, data=deleted) == ""  # not a member
    # Its body, read again after a reconnect: the notice (htmx swaps no 404), the page still a 404.
    gone = client_for(world.avery).get(f"/t/acme/scenarios/{pk}/?part=body")
    assert gone.status_code == 200 and "This scenario was deleted or is no longer open to you" in gone.text
    assert gone.text.startswith(f'<tr id="scenario-{pk}" hx-swap-oob="delete"></tr>')
    assert '<div id="scenario-body" hidden></div>' in gone.text
    assert client_for(world.avery).get(f"/t/acme/scenarios/{pk}/").status_code == 404


def test_a_hidden_scenarios_body_answers_as_a_deleted_ones_does(world) -> None:
    """The body of a scenario one may not see says no more than that of one that never was."""
    app = planner(world)
    scenario = services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Secret plan")
    app.access = AppAccess.TEAMS
    app.save()
    app.teams.clear()
    hidden = client_for(world.avery).get(f"/t/acme/scenarios/{scenario.pk}/?part=body")
    missing = client_for(world.avery).get("/t/acme/scenarios/999999/?part=body")
    assert hidden.status_code == missing.status_code == 200
    assert hidden.text.replace(str(scenario.pk), "N") == missing.text.replace("999999", "N")
    assert "Secret plan" not in hidden.text
    assert client_for(world.avery).get(f"/t/acme/scenarios/{scenario.pk}/").status_code == 404


def test_a_renamed_scenarios_heading_comes_with_its_row(world) -> None:
    """Its row showed the new name; its page's heading and title kept the old one."""
    app = planner(world)
    scenario = services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Old <name>")
    page = client_for(world.avery).get(f"/t/acme/scenarios/{scenario.pk}/")
    heading = (
        f'<h1 id="scenario-{scenario.pk}-heading" data-title="Old &lt;name&gt; · Scenarios · Acme Corp">'
    )
    assert heading + "Scenario: Old &lt;name&gt;</h1>" in page.text
    services.scenario_update(scenario=scenario, name="New <name>")
    renamed = last_event(entity_type="scenario", operation="update", attribute_name="name")
    html = render_scenarios_topic(user=world.avery, tenant=world.acme, data=renamed)
    assert f'<tr id="scenario-{scenario.pk}"' in html
    assert (
        f'<h1 id="scenario-{scenario.pk}-heading" data-title="New &lt;name&gt; · Scenarios · Acme Corp"'
        ' hx-swap-oob="true">Scenario: New &lt;name&gt;</h1>'
    ) in html


def test_an_empty_hint_re_renders_the_whole_list(world) -> None:
    html = render_scenarios_topic(user=world.avery, tenant=world.acme, data={})
    assert html.startswith('<tbody id="scenarios-rows" hx-swap-oob="true">') and "Baseline" in html


def test_the_admin_lists_scenarios_to_developers_and_deletes_through_the_service(world) -> None:
    app = planner(world)
    scenario = services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Admin me")
    client = client_for(world.adam)
    assert "Admin me" in client.get("/admin/scenarios/scenario/").text
    assert "Admin me" not in client_for(world.greta).get("/admin/scenarios/scenario/").text  # Globex's owner
    owner = client_for(world.alice)
    response = owner.post(f"/admin/scenarios/scenario/{scenario.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/scenarios/scenario/"  # the list, not the admin's index
    assert LoggedEvent.objects.filter(
        entity_type="scenario", operation="deletion", entity_id=str(scenario.pk)
    )


def test_deleting_in_the_admin_goes_back_to_the_list_with_its_tenant_filter(world) -> None:
    """Django sends back to the list only who may change rows; scenarios are read-only, so the
    owner landed on /admin/ after every delete."""
    app = planner(world)
    scenario = services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Filtered away")
    owner = client_for(world.alice)
    filters = f"_changelist_filters=tenant%3D{world.acme.pk}"
    confirm = owner.get(f"/admin/scenarios/scenario/{scenario.pk}/delete/?{filters}")
    assert confirm.status_code == 200
    response = owner.post(f"/admin/scenarios/scenario/{scenario.pk}/delete/?{filters}", {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"/admin/scenarios/scenario/?tenant={world.acme.pk}"
    listing = owner.get(response["Location"])
    assert listing.status_code == 200 and "Filtered away (draft)” was deleted successfully" in listing.text
    assert f'href="/admin/scenarios/scenario/{scenario.pk}/' not in listing.text
