"""The SDK's scenario functions on the platform: the services and selectors, for the running app.

Each call runs in the caller's thread (a handler's pool thread, a job's work horse) and closes
the database connections it opened, so the handler pool's many threads keep none (the few
``runtime.db.db_call`` threads keep theirs on purpose).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connections

from dashboards.runtime.context import AppContext
from dashboards.scenarios import services
from dashboards.scenarios.models import Scenario as ScenarioRow
from dashboards.scenarios.selectors import scenario_get, scenario_list, scenario_value
from dashboards.scenarios.values import Scenario, ScenarioNotFound

R = TypeVar("R")


class DatabaseScenarios:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    def create(self, name: Any, parameters: Any, tags: Any) -> Scenario:
        return _closing(lambda: scenario_value(services.scenario_create(
            tenant_id=self.context.tenant_id, app_id=self.context.app_id, name=name,
            owner_id=self.context.user_id, parameters=parameters, tags=tags,
        )))  # fmt: skip

    def list(self, status: str | None, tag: str | None) -> list[Scenario]:
        return _closing(lambda: [
            scenario_value(row)
            for row in scenario_list(tenant=self.context.tenant_id, app_id=self.context.app_id,
                                     status=status or "", tag=tag or "")
        ])  # fmt: skip

    def get(self, scenario_id: int) -> Scenario:
        return _closing(lambda: scenario_value(self._row(scenario_id)))

    def update(self, scenario_id: int, name: Any, tags: Any) -> Scenario:
        return _closing(lambda: self._again(services.scenario_update(
            scenario=self._row(scenario_id), name=name, tags=tags, actor_id=self.context.user_id
        )))  # fmt: skip

    def write(self, scenario_id: int, values: dict[str, Any]) -> Scenario:
        return _closing(lambda: self._again(services.scenario_write_parameters(
            scenario=self._row(scenario_id), values=values, actor_id=self.context.user_id
        )))  # fmt: skip

    def delete(self, scenario_id: int) -> None:
        _closing(
            lambda: services.scenario_delete(scenario=self._row(scenario_id), actor_id=self.context.user_id)
        )

    def submit(self, scenario_id: int, function: str, timeout: int | None, title: str) -> Scenario:
        def submit() -> Scenario:
            row = self._row(scenario_id)
            services.scenario_submit(
                scenario=row, function=function, release_id=self.context.release_id,
                user_id=self.context.user_id, timeout_seconds=timeout, title=title,
            )  # fmt: skip
            return scenario_value(self._row(scenario_id))

        return _closing(submit)

    def _row(self, scenario_id: int) -> ScenarioRow:
        row = scenario_get(tenant=self.context.tenant_id, scenario_id=scenario_id, app_id=self.context.app_id)
        if row is None:
            raise ScenarioNotFound(f"there is no scenario {scenario_id!r} in this app")
        return row

    def _again(self, row: ScenarioRow) -> Scenario:
        return scenario_value(self._row(row.pk))


def _closing(call: Callable[[], R]) -> R:
    try:
        return call()
    finally:
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close()
