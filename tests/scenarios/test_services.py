"""Scenario services and selectors: writes, their events, bad input, and tenant scoping."""

from __future__ import annotations

import pytest

from dashboards.events.models import LoggedEvent
from dashboards.hosting.models import App, AppAccess
from dashboards.jobs.models import Job, JobStatus
from dashboards.jobs.services import job_cancel, job_fail, job_finish, job_resubmit, job_start
from dashboards.scenarios import services
from dashboards.scenarios.models import Scenario, ScenarioStatus
from dashboards.scenarios.selectors import (
    scenario_get,
    scenario_list,
    scenario_list_for_member,
    scenario_summaries,
)
from dashboards.scenarios.values import ScenarioBusy, ScenarioError


def planner(world) -> App:
    return App.objects.get(tenant=world.acme, slug="planner")


def make(world, name: str = "Plan", **options) -> Scenario:
    app = planner(world)
    return services.scenario_create(
        tenant_id=app.tenant_id, app_id=app.pk, name=name, owner_id=world.adam.pk, **options
    )


def events(scenario: Scenario) -> list[tuple[str, str, str, str, object]]:
    rows = LoggedEvent.objects.for_tenant(scenario.tenant_id).filter(metadata__scenario_id=scenario.pk)
    return [
        (e.entity_type, e.operation, e.entity_id, e.attribute_name, e.attribute_value)
        for e in rows.order_by("created_at", "pk")
    ]


def test_create_emits_the_scenario_and_each_data_node(world) -> None:
    scenario = make(world, parameters={"growth": 5, "months": 12}, tags=["q3", "q3", " draft "])
    assert scenario.status == ScenarioStatus.DRAFT and scenario.tags == ["q3", "draft"]
    assert events(scenario) == [
        ("scenario", "creation", str(scenario.pk), "name", "Plan"),
        ("data_node", "update", f"{scenario.pk}:growth", "growth", 5),
        ("data_node", "update", f"{scenario.pk}:months", "months", 12),
    ]


def test_writing_parameters_merges_and_emits_only_what_changed(world) -> None:
    scenario = make(world, parameters={"growth": 5, "months": 12})
    LoggedEvent.objects.all().delete()
    scenario = services.scenario_write_parameters(
        scenario=scenario, values={"growth": 5, "months": 6, "note": "x"}
    )
    assert scenario.parameters == {"growth": 5, "months": 6, "note": "x"}
    assert [e[2:4] for e in events(scenario)] == [
        (f"{scenario.pk}:months", "months"),
        (f"{scenario.pk}:note", "note"),
    ]


def test_a_large_value_is_left_out_of_its_event_with_a_note(world) -> None:
    scenario = make(world)
    services.scenario_write_parameters(scenario=scenario, values={"table": ["x" * 100] * 50})
    event = LoggedEvent.objects.get(entity_id=f"{scenario.pk}:table")
    assert event.attribute_value is None and "read the scenario" in event.metadata["value_omitted"]
    assert event.metadata["scenario_id"] == scenario.pk and event.metadata["app_id"] == scenario.app_id


def test_rename_and_tag_emit_one_event_per_field(world) -> None:
    scenario = make(world)
    services.scenario_update(scenario=scenario, name="Plan B", tags=["x"])
    services.scenario_update(scenario=scenario, name="Plan B")  # no change, no event
    assert [e[1:] for e in events(scenario)[1:]] == [
        ("update", str(scenario.pk), "name", "Plan B"),
        ("update", str(scenario.pk), "tags", ["x"]),
    ]


def test_delete_emits_a_deletion(world) -> None:
    scenario = make(world)
    pk = scenario.pk
    services.scenario_delete(scenario=scenario)
    assert not Scenario.objects.filter(pk=pk).exists()
    assert LoggedEvent.objects.filter(
        entity_type="scenario", entity_id=str(pk), operation="deletion"
    ).exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": ""}, "needs a name"),
        ({"name": "x" * 201}, "at most 200"),
        ({"parameters": {"when": object()}}, "JSON-serialisable"),
        ({"parameters": ["not", "a", "dict"]}, "dict of name"),
        ({"parameters": {"big": "x" * 70_000}}, "must fit in 65536 bytes of JSON"),
        ({"tags": "q3"}, "not one string"),
        ({"tags": ["x"] * 0 + [f"t{i}" for i in range(21)]}, "at most 20 tags"),
        # what PostgreSQL cannot store: refused with a reason on every database
        ({"name": "a\x00b"}, "name holds a NUL character"),
        ({"tags": ["q\x00"]}, "tag holds a NUL character"),
        ({"parameters": {"k": "\ud800"}}, "parameters holds an unpaired surrogate"),
        ({"parameters": {"k\x00": 1}}, "parameters holds a NUL character"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(world, options, message) -> None:
    before = Scenario.objects.count()
    with pytest.raises(ScenarioError, match=message):
        make(world, **{"name": "ok", **options})
    assert Scenario.objects.count() == before


def test_a_failed_write_keeps_the_earlier_parameters(world) -> None:
    scenario = make(world, parameters={"growth": 5})
    with pytest.raises(ScenarioError):
        services.scenario_write_parameters(scenario=scenario, values={"growth": float("nan")})
    scenario.refresh_from_db()
    assert scenario.parameters == {"growth": 5}


def test_submit_creates_a_job_and_the_scenario_follows_it(world) -> None:
    scenario = make(world, parameters={"growth": 5})
    job = services.scenario_submit(
        scenario=scenario,
        function="main:forecast",
        release_id=scenario.app.active_release_id,
        user_id=world.adam.pk,
    )
    scenario.refresh_from_db()
    assert (job.scenario_id, job.function, job.arguments) == (scenario.pk, "main:forecast", [{"growth": 5}])
    assert scenario.status == ScenarioStatus.SUBMITTED and scenario.job_id == job.pk
    with pytest.raises(ScenarioBusy, match="submitted"):
        services.scenario_submit(
            scenario=scenario,
            function="main:forecast",
            release_id=scenario.app.active_release_id,
            user_id=None,
        )
    job.rq_id = Job.objects.get(pk=job.pk).rq_id
    assert job_start(job_id=job.pk, rq_id=job.rq_id)
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.RUNNING
    assert job_finish(job_id=job.pk, result={"total": 3})
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.COMPLETED and scenario.results == {"total": 3}
    assert scenario.completed_at is not None
    submission = LoggedEvent.objects.filter(entity_type="submission", entity_id=str(job.pk)).order_by("pk")
    assert [(e.operation, e.attribute_value) for e in submission] == [
        ("creation", None),
        ("update", "running"),
        ("update", "completed"),
    ]
    assert LoggedEvent.objects.filter(
        entity_type="scenario", operation="submission", entity_id=str(scenario.pk)
    )


def test_a_failed_or_canceled_job_fails_its_scenario_with_why(world) -> None:
    scenario = make(world)
    release_id = scenario.app.active_release_id
    job = services.scenario_submit(scenario=scenario, function="main:f", release_id=release_id, user_id=None)
    assert job_cancel(job=Job.objects.get(pk=job.pk))
    scenario.refresh_from_db()
    assert (scenario.status, scenario.error) == (ScenarioStatus.FAILED, "the submission was canceled")
    again = job_resubmit(job=Job.objects.get(pk=job.pk), user_id=None)  # Retry on the Jobs page
    scenario.refresh_from_db()
    assert scenario.job_id == again.pk and scenario.status == ScenarioStatus.SUBMITTED
    Job.objects.filter(pk=again.pk).update(status=JobStatus.STARTED)
    assert job_fail(job_id=again.pk, error="ValueError: no")
    scenario.refresh_from_db()
    assert (scenario.status, scenario.error) == (ScenarioStatus.FAILED, "ValueError: no")


def test_retry_of_a_scenarios_job_runs_its_parameters_of_now_and_never_beside_another(world) -> None:
    """Retry goes through the scenario: refused while it is busy, and with its current parameters."""
    scenario = make(world, parameters={"x": 1})
    release_id = scenario.app.active_release_id
    first = services.scenario_submit(scenario=scenario, function="main:f", release_id=release_id,
                                     user_id=None)  # fmt: skip
    Job.objects.filter(pk=first.pk).update(status=JobStatus.STARTED)
    assert job_fail(job_id=first.pk, error="ValueError: no")
    services.scenario_write_parameters(scenario=scenario, values={"x": 100})
    again = job_resubmit(job=Job.objects.get(pk=first.pk), user_id=None)
    assert again.arguments == [{"x": 100}]
    with pytest.raises(ScenarioBusy, match="submitted"):  # a second click, or another member's
        job_resubmit(job=Job.objects.get(pk=first.pk), user_id=None)
    assert Job.objects.filter(scenario=scenario).count() == 2


def test_an_older_job_ending_late_does_not_overwrite_the_latest(world) -> None:
    scenario = make(world)
    release_id = scenario.app.active_release_id
    old = services.scenario_submit(scenario=scenario, function="main:f", release_id=release_id, user_id=None)
    Scenario.objects.filter(pk=scenario.pk).update(status=ScenarioStatus.FAILED)
    new = services.scenario_submit(scenario=scenario, function="main:f", release_id=release_id, user_id=None)
    Job.objects.filter(pk=old.pk).update(status=JobStatus.STARTED)
    assert job_finish(job_id=old.pk, result="old")
    scenario.refresh_from_db()
    assert (
        scenario.job_id == new.pk and scenario.results is None and scenario.status == ScenarioStatus.SUBMITTED
    )


def test_a_bad_timeout_is_a_scenario_error(world) -> None:
    scenario = make(world)
    with pytest.raises(ScenarioError, match="timeout"):
        services.scenario_submit(
            scenario=scenario,
            function="main:f",
            release_id=scenario.app.active_release_id,
            user_id=None,
            timeout_seconds=0,
        )
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.DRAFT and not Job.objects.filter(scenario=scenario).exists()


def test_reads_never_cross_tenants(world) -> None:
    ours = make(world)
    globex_app = App.objects.get(tenant=world.globex, slug="counter")
    theirs = services.scenario_create(tenant_id=world.globex.pk, app_id=globex_app.pk, name="Theirs")
    assert scenario_get(tenant=world.acme, scenario_id=theirs.pk) is None
    assert scenario_get(tenant=world.acme, scenario_id=ours.pk) == ours
    assert scenario_get(tenant=world.acme, scenario_id="nonsense") is None
    assert theirs not in scenario_list(tenant=world.acme)
    assert [row["id"] for row in scenario_summaries(tenant_id=world.globex.pk, app_id=globex_app.pk)] == [
        theirs.pk
    ]
    assert scenario_get(tenant=world.acme, scenario_id=ours.pk, app_id=globex_app.pk) is None


def test_members_list_only_scenarios_of_apps_they_may_open(world) -> None:
    scenario = make(world)
    app = scenario.app
    app.access = AppAccess.TEAMS
    app.save()
    app.teams.clear()
    assert scenario not in scenario_list_for_member(tenant=world.acme, user=world.avery, role="viewer")
    assert scenario in scenario_list_for_member(tenant=world.acme, user=world.adam, role="developer")
    assert (
        scenario_list_for_member(tenant=world.acme, user=world.adam, role="developer", status="running") == []
    )
