"""A submitted scenario on a real RQ worker: its results, or its error, are written back."""

from __future__ import annotations

from dashboards.events.models import LoggedEvent
from dashboards.jobs.models import Job, JobStatus
from dashboards.scenarios import services
from dashboards.scenarios.models import Scenario, ScenarioStatus
from tests.scenarios.conftest import wait_for


def submit(app, user, task: str, parameters: dict) -> Scenario:
    scenario = services.scenario_create(
        tenant_id=app.tenant_id, app_id=app.pk, name=task, owner_id=user.pk, parameters=parameters
    )
    services.scenario_submit(
        scenario=scenario, function=f"main:{task}", release_id=app.active_release_id, user_id=user.pk
    )
    return scenario


def ended(scenario: Scenario) -> Scenario | None:
    scenario.refresh_from_db()
    return scenario if scenario.status in (ScenarioStatus.COMPLETED, ScenarioStatus.FAILED) else None


def test_a_submission_runs_on_a_worker_and_its_results_come_back(
    live_scenario_lab, job_worker, live_world
) -> None:
    scenario = submit(live_scenario_lab, live_world.adam, "double", {"x": 21})
    wait_for(lambda: ended(scenario))
    assert scenario.status == ScenarioStatus.COMPLETED, scenario.error
    assert scenario.results == {"doubled": 42}
    job = Job.objects.get(pk=scenario.job_id)
    assert (job.status, job.result, job.scenario_id, job.progress) == (
        JobStatus.FINISHED,
        {"doubled": 42},
        scenario.pk,
        1.0,
    )
    statuses = LoggedEvent.objects.filter(entity_type="submission", entity_id=str(job.pk), operation="update")
    assert list(statuses.order_by("pk").values_list("attribute_value", flat=True)) == ["running", "completed"]
    results = LoggedEvent.objects.get(
        entity_type="scenario", entity_id=str(scenario.pk), attribute_name="results"
    )
    assert results.attribute_value == {"doubled": 42}


def test_a_task_that_raises_fails_its_scenario_with_the_error(
    live_scenario_lab, job_worker, live_world
) -> None:
    scenario = submit(live_scenario_lab, live_world.adam, "explode", {})
    wait_for(lambda: ended(scenario))
    assert scenario.status == ScenarioStatus.FAILED
    assert scenario.error == "ValueError: no forecast today" and scenario.results is None
