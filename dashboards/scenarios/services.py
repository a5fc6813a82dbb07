"""Writes of scenarios: create, rename and tag, write parameters, delete, submit.

Each write is one transaction that also records its events (``emit.scenario_event``): delivered
after commit, so a write that rolls back emits nothing. Bad input raises a ``ScenarioError``
(a ValueError) before anything is written. Read-modify-writes lock the row, so two writers of
different parameters both keep theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from dashboards.jobs.models import Job
from dashboards.jobs.services import job_submit
from dashboards.jobs.specs import JobRefused
from dashboards.scenarios.emit import scenario_event
from dashboards.scenarios.models import Scenario
from dashboards.scenarios.values import (
    ScenarioBusy,
    ScenarioError,
    ScenarioNotFound,
    changed_parameters,
    check_name,
    check_parameters,
    check_tags,
)


def scenario_create(
    *,
    tenant_id: int,
    app_id: int,
    name: str,
    owner_id: int | None = None,
    parameters: dict[str, Any] | None = None,
    tags: Iterable[str] = (),
) -> Scenario:
    """A draft scenario of an app; its parameters may be given now or written later."""
    name, values, tag_list = check_name(name), check_parameters(parameters), check_tags(tags)
    with transaction.atomic():
        scenario = Scenario.objects.create(
            tenant_id=tenant_id, app_id=app_id, name=name, owner_id=owner_id, parameters=values, tags=tag_list
        )
        scenario_event(scenario, "scenario", "creation", attribute_name="name", value=name, user_id=owner_id)
        for key, value in values.items():
            _data_node_event(scenario, key, value, user_id=owner_id)
    return scenario


def scenario_update(
    *,
    scenario: Scenario,
    name: str | None = None,
    tags: Iterable[str] | None = None,
    actor_id: int | None = None,
) -> Scenario:
    """Rename or re-tag; an event per field that really changed."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = check_name(name)
    if tags is not None:
        changes["tags"] = check_tags(tags)
    with transaction.atomic():
        row = _locked(scenario)
        changed = {field: value for field, value in changes.items() if getattr(row, field) != value}
        if not changed:
            return row
        for field, value in changed.items():
            setattr(row, field, value)
        row.save(update_fields=[*changed, "updated_at"])
        for field, value in changed.items():
            scenario_event(row, "scenario", "update", attribute_name=field, value=value, user_id=actor_id)
    return row


def scenario_write_parameters(
    *, scenario: Scenario, values: dict[str, Any], actor_id: int | None = None
) -> Scenario:
    """Merge ``values`` into the parameters (a key set to None is kept as null, not removed).

    One data-node event per key whose value changed. A scenario that is running keeps running on
    the parameters it was submitted with; the new ones are for its next submission.
    """
    incoming = check_parameters(values)
    with transaction.atomic():
        row = _locked(scenario)
        changed = changed_parameters(row.parameters, incoming)
        if not changed:
            return row
        row.parameters = check_parameters({**row.parameters, **changed})  # the total stays bounded
        row.save(update_fields=["parameters", "updated_at"])
        for key, value in changed.items():
            _data_node_event(row, key, value, user_id=actor_id)
    return row


def scenario_delete(*, scenario: Scenario, actor_id: int | None = None) -> None:
    """Delete it; its jobs stay on the Jobs page (their scenario link becomes empty)."""
    with transaction.atomic():
        row = _locked(scenario)
        scenario_event(row, "scenario", "deletion", attribute_name="name", value=row.name, user_id=actor_id)
        row.delete()


def scenario_submit(
    *,
    scenario: Scenario,
    function: str,
    release_id: int,
    user_id: int | None,
    session_id: str = "",
    timeout_seconds: int | None = None,
    title: str = "",
) -> Job:
    """Run ``function`` (``module:name`` of the release) on a job worker with the parameters.

    The job is a job like any other (quota, timeout, Cancel and the Jobs page apply); its end
    writes the scenario's results back (``submissions``). A scenario already submitted or
    running is refused with ``ScenarioBusy``.
    """
    with transaction.atomic():
        row = _locked(scenario)
        if row.is_active and row.job_id is not None:  # a deleted job frees its scenario
            raise ScenarioBusy(
                f"scenario {row.name!r} is {row.status}: wait for it to end before submitting again"
            )
        try:
            job = job_submit(
                tenant_id=row.tenant_id, app_id=row.app_id, release_id=release_id, user_id=user_id,
                session_id=session_id, function=function, arguments=[row.parameters],
                timeout_seconds=timeout_seconds, scenario_id=row.pk, title=title,
            )  # fmt: skip
        except JobRefused as error:
            raise ScenarioError(str(error)) from None
    return job


def _locked(scenario: Scenario) -> Scenario:
    """The row again, locked for this transaction (PostgreSQL; SQLite writes one at a time)."""
    row = Scenario.objects.for_tenant(scenario.tenant_id).select_for_update().filter(pk=scenario.pk).first()
    if row is None:
        raise ScenarioNotFound(f"scenario {scenario.pk} was deleted")
    return row


def _data_node_event(scenario: Scenario, key: str, value: Any, *, user_id: int | None) -> None:
    scenario_event(scenario, "data_node", "update", entity_id=f"{scenario.pk}:{key}", attribute_name=key,
                   value=value, user_id=user_id)  # fmt: skip
