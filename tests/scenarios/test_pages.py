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
    assert html == f'<tr id="scenario-{pk}" hx-swap-oob="delete"></tr>'


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
