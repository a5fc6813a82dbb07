"""The Jobs pages: scoping, who may cancel and retry, and the live topic's fragments."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dashboards.jobs import services
from dashboards.jobs.models import Job, JobStatus
from dashboards.jobs.pages import render_jobs_topic


@pytest.fixture
def counter_job(world) -> Job:
    from dashboards.hosting.models import App

    app = App.objects.get(tenant=world.acme, slug="counter")
    return services.job_submit(
        tenant_id=app.tenant_id,
        app_id=app.pk,
        release_id=app.active_release_id,
        user_id=world.avery.pk,
        session_id="",
        function="main:crunch",
        arguments=[3],
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_jobs_page_lists_the_tenants_jobs(world, counter_job) -> None:
    response = client_for(world.adam).get("/t/acme/jobs/")
    assert response.status_code == 200
    assert f'id="job-{counter_job.pk}"' in response.text
    assert f"#{counter_job.pk} Crunch</a>" in response.text  # the function's name, as people read it


def test_filters_narrow_the_list(world, counter_job) -> None:
    assert f'id="job-{counter_job.pk}"' not in client_for(world.adam).get("/t/acme/jobs/?status=failed").text
    assert f'id="job-{counter_job.pk}"' in client_for(world.adam).get("/t/acme/jobs/?user=avery").text


def test_another_tenants_job_answers_404(world, counter_job) -> None:
    greta = client_for(world.greta)
    assert greta.get(f"/t/acme/jobs/{counter_job.pk}/").status_code == 404
    assert greta.get(f"/t/globex/jobs/{counter_job.pk}/").status_code == 404
    assert f"job-{counter_job.pk}" not in greta.get("/t/globex/jobs/").text


def test_the_job_page_shows_the_outcome(world, counter_job) -> None:
    Job.objects.filter(pk=counter_job.pk).update(status=JobStatus.FINISHED, result={"total": 3})
    response = client_for(world.avery).get(f"/t/acme/jobs/{counter_job.pk}/")
    assert response.status_code == 200
    assert "Result" in response.text and "total" in response.text


def test_who_started_a_job_and_developers_may_cancel_it(world, counter_job) -> None:
    alice_is_owner = client_for(world.alice)
    response = client_for(world.adam).post(f"/t/acme/jobs/{counter_job.pk}/cancel/")
    assert response.status_code == 302
    counter_job.refresh_from_db()
    assert counter_job.status == JobStatus.CANCELED
    assert alice_is_owner.get("/t/acme/jobs/").status_code == 200


def test_the_pages_messages_are_a_list_inside_a_live_region_that_stays(world, counter_job) -> None:
    """Stop and Retry swap the list (#messages) in with htmx: a live region swapped in whole says
    nothing, and role="status" on the <ul> took its list role from it (its items in no list)."""
    html = client_for(world.adam).get("/t/acme/jobs/").text
    assert '<div role="status"><ul id="messages" class="messages" hidden></ul></div>' in html
    client = client_for(world.adam)
    client.post(f"/t/acme/jobs/{counter_job.pk}/cancel/")
    html = client.get("/t/acme/jobs/").text
    assert re.search(r'<div role="status"><ul id="messages" class="messages"><li class="[^"]*">', html)


def test_a_viewer_may_not_cancel_someone_elses_job(world) -> None:
    from dashboards.hosting.models import App

    app = App.objects.get(tenant=world.acme, slug="counter")
    job = services.job_submit(
        tenant_id=app.tenant_id,
        app_id=app.pk,
        release_id=app.active_release_id,
        user_id=world.adam.pk,
        session_id="",
        function="main:crunch",
        arguments=[],
    )
    assert client_for(world.avery).post(f"/t/acme/jobs/{job.pk}/cancel/").status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_retry_submits_the_same_call_again(world, counter_job) -> None:
    Job.objects.filter(pk=counter_job.pk).update(status=JobStatus.FAILED, error="boom")
    response = client_for(world.avery).post(f"/t/acme/jobs/{counter_job.pk}/retry/")
    assert response.status_code == 302
    again = Job.objects.exclude(pk=counter_job.pk).get(function="main:crunch")
    assert again.arguments == [3] and again.status == JobStatus.QUEUED


@pytest.mark.parametrize(
    ("next_page", "back_to"),
    [
        ("/t/acme/jobs/?status=failed", "/t/acme/jobs/?status=failed"),
        ("job_list", "/t/acme/jobs/"),  # a URL's name, which redirect() looked up: a 500
        ("home", "/t/acme/jobs/"),
        ("//evil.example/", "/t/acme/jobs/"),
        ("https://evil.example/", "/t/acme/jobs/"),
    ],
)
def test_the_buttons_go_back_to_a_path_of_this_site_only(world, counter_job, next_page, back_to) -> None:
    response = client_for(world.adam).post(f"/t/acme/jobs/{counter_job.pk}/cancel/", {"next": next_page})
    assert response.status_code == 302 and response["Location"] == back_to


def test_retry_of_a_busy_scenarios_job_says_why_it_was_not_submitted(world) -> None:
    from dashboards.hosting.models import App
    from dashboards.scenarios.services import scenario_create, scenario_submit

    app = App.objects.get(tenant=world.acme, slug="planner")
    scenario = scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Busy", owner_id=world.adam.pk)
    release_id = app.active_release_id
    first = scenario_submit(scenario=scenario, function="main:f", release_id=release_id, user_id=None)
    Job.objects.filter(pk=first.pk).update(status=JobStatus.STARTED)
    assert services.job_fail(job_id=first.pk, error="boom")
    scenario_submit(scenario=scenario, function="main:f", release_id=app.active_release_id, user_id=None)
    response = client_for(world.adam).post(f"/t/acme/jobs/{first.pk}/retry/", follow=True)
    assert response.status_code == 200
    assert f"Job #{first.pk} was not submitted again: scenario &#x27;Busy&#x27; is submitted" in response.text
    assert Job.objects.filter(scenario=scenario).count() == 2


def test_retry_of_a_finished_job_submits_nothing(world, counter_job) -> None:
    Job.objects.filter(pk=counter_job.pk).update(status=JobStatus.FINISHED, result=1)
    response = client_for(world.avery).post(f"/t/acme/jobs/{counter_job.pk}/retry/", follow=True)
    assert f"Job #{counter_job.pk} is finished: nothing to retry." in response.text
    assert Job.objects.count() == 1


def _store_nested(job_id: int, field: str, depth: int) -> None:
    """Written as text: encoding it in Python would itself hit the recursion limit under xdist."""
    from django.db import connection

    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Job._meta.db_table} SET {field} = %s{cast} WHERE id = %s",  # noqa: S608 - our own table and column
            ["[" * depth + "1" + "]" * depth, job_id],
        )


def test_a_row_nested_deeper_than_reads_allow_shows_a_note_and_is_not_retried(world, counter_job) -> None:
    """Rows from before JSON's depth limit: decoding them deep in a request's stack was a 500."""
    Job.objects.filter(pk=counter_job.pk).update(status=JobStatus.FINISHED)
    _store_nested(counter_job.pk, "arguments", 990)
    _store_nested(counter_job.pk, "result", 990)
    avery = client_for(world.avery)
    page = avery.get(f"/t/acme/jobs/{counter_job.pk}/")
    assert page.status_code == 200
    assert "stored nested too deeply to be read back" in page.text
    assert avery.get("/t/acme/jobs/").status_code == 200
    Job.objects.filter(pk=counter_job.pk).update(status=JobStatus.FAILED, error="boom")
    response = avery.post(f"/t/acme/jobs/{counter_job.pk}/retry/", follow=True)
    assert "was not submitted again: its arguments cannot be read back" in response.text
    assert Job.objects.count() == 1


def test_retry_of_a_deleted_scenarios_job_says_so_and_submits_nothing(world) -> None:
    """Its scenario is unset when the scenario is deleted: it ran as a plain job, writing nowhere."""
    from dashboards.hosting.models import App
    from dashboards.scenarios.services import scenario_create, scenario_submit

    app = App.objects.get(tenant=world.acme, slug="planner")
    scenario = scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Gone", owner_id=world.adam.pk)
    job = scenario_submit(
        scenario=scenario, function="main:f", release_id=app.active_release_id, user_id=None
    )
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="boom")
    scenario.delete()
    response = client_for(world.adam).post(f"/t/acme/jobs/{job.pk}/retry/", follow=True)
    assert f"Job #{job.pk} was not submitted again: this job&#x27;s scenario was deleted" in response.text
    assert Job.objects.count() == 1


def test_cancel_of_a_job_that_started_meanwhile_stops_it(world, counter_job, redis_client) -> None:
    seen_queued = Job.objects.get(pk=counter_job.pk)  # what the page read
    Job.objects.filter(pk=counter_job.pk).update(status=JobStatus.STARTED)  # a worker took it
    assert services.job_cancel(job=seen_queued)
    assert Job.objects.get(pk=counter_job.pk).status == JobStatus.STOPPED


def job_event(job, operation: str, attribute: str = "status", value=None) -> dict:
    from dashboards.events.event import Event

    return Event(entity_type="job", operation=operation, entity_id=str(job.pk), attribute_name=attribute,
                 attribute_value=value, tenant_id=job.tenant_id).as_message()  # fmt: skip


def test_the_live_topic_renders_a_progress_cell_from_the_report(world, counter_job) -> None:
    html = render_jobs_topic(
        user=world.avery,
        tenant=world.acme,
        data=job_event(counter_job, "update", "progress", {"fraction": 0.5, "message": "half <b>way</b>"}),
    )
    assert f'id="job-{counter_job.pk}-progress"' in html and 'hx-swap-oob="true"' in html
    assert 'value="50"' in html and "half &lt;b&gt;way&lt;/b&gt;" in html
    assert "<tr" not in html


def test_the_live_topic_prepends_a_new_job_and_replaces_a_changed_one(world, counter_job) -> None:
    created = render_jobs_topic(user=world.avery, tenant=world.acme, data=job_event(counter_job, "creation"))
    assert 'hx-swap-oob="afterbegin:#jobs-rows"' in created
    changed = render_jobs_topic(user=world.avery, tenant=world.acme, data=job_event(counter_job, "update"))
    assert f'<tr id="job-{counter_job.pk}"' in changed and 'hx-swap-oob="true"' in changed


def test_a_page_that_missed_events_gets_the_whole_table(world, counter_job) -> None:
    html = render_jobs_topic(user=world.avery, tenant=world.acme, data={})
    assert html.startswith('<tbody id="jobs-rows" hx-swap-oob="true">')
    assert f'<tr id="job-{counter_job.pk}"' in html


def test_the_live_topic_renders_nothing_for_another_tenant(world, counter_job) -> None:
    data = job_event(counter_job, "update")
    assert render_jobs_topic(user=world.greta, tenant=world.globex, data=data) == ""
    assert f"job-{counter_job.pk}" not in render_jobs_topic(user=world.greta, tenant=world.globex, data={})


def test_the_jobs_list_reads_no_job_s_arguments_or_result(world, counter_job) -> None:
    """Up to 256 KiB of JSON a row, decoded for each of 200 rows, for a page that shows neither."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Job.objects.filter(pk=counter_job.pk).update(
        status=JobStatus.FINISHED, result={"rows": ["x" * 100] * 1000}
    )
    client = client_for(world.adam)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/t/acme/jobs/").status_code == 200
    reading = [q["sql"] for q in queries if "jobs_job" in q["sql"] and '"result"' in q["sql"]]
    assert reading == []


def test_the_admin_deletes_ended_jobs_only(world, counter_job) -> None:
    """A queued or running job's row is what its worker and its tab go by: cancelled first."""
    owner = client_for(world.alice)
    assert owner.get(f"/admin/jobs/job/{counter_job.pk}/delete/").status_code == 403  # queued
    ended = services.job_submit(
        tenant_id=counter_job.tenant_id, app_id=counter_job.app_id, release_id=counter_job.release_id,
        user_id=world.avery.pk, session_id="", function="main:crunch", arguments=[1],
    )  # fmt: skip
    Job.objects.filter(pk=ended.pk).update(status=JobStatus.FAILED)

    def delete_selected(*pks: int) -> int:
        form = {"action": "delete_selected", "_selected_action": list(pks), "post": "yes"}
        return owner.post("/admin/jobs/job/", form).status_code

    assert delete_selected(counter_job.pk, ended.pk) == 403  # one of them is queued: none is deleted
    assert Job.objects.count() == 2
    assert delete_selected(ended.pk) == 302
    assert list(Job.objects.values_list("pk", flat=True)) == [counter_job.pk]


def test_deleting_a_job_in_the_admin_goes_back_to_the_jobs_list(world, counter_job) -> None:
    """Jobs are read-only in the admin: Django sent whoever deleted one to /admin/, not the list."""
    Job.objects.filter(pk=counter_job.pk).update(status=JobStatus.FINISHED)
    owner = client_for(world.alice)
    filters = f"_changelist_filters=tenant%3D{world.acme.pk}"
    response = owner.post(f"/admin/jobs/job/{counter_job.pk}/delete/?{filters}", {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"/admin/jobs/job/?tenant={world.acme.pk}"
    assert not Job.objects.filter(pk=counter_job.pk).exists()
