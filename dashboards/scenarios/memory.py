"""Scenarios in memory, for the app authors' test client (``dashboards.testing``). No Django.

The same checks as the platform (``values``), the same snapshots; a submission is recorded and
run by the test client right after the handler, as long callbacks are.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dashboards.scenarios.limits import SESSION_LIST_MAX
from dashboards.scenarios.values import (
    ACTIVE_STATUSES,
    Scenario,
    ScenarioBusy,
    ScenarioNotFound,
    changed_parameters,
    check_name,
    check_parameters,
    check_tags,
    summary,
)


class MemoryScenarios:
    def __init__(self, owner: str = "tester") -> None:
        self.owner = owner
        self.rows: dict[int, Scenario] = {}
        self.pending: list[tuple[int, str, str]] = []  # (scenario id, "module:function", title) to run
        self.events: list[tuple[str, str, str]] = []  # (entity type, operation, attribute), for tests
        self._next_id = 1

    def create(self, name: Any, parameters: Any, tags: Any) -> Scenario:
        name, values, tag_list = check_name(name), check_parameters(parameters), check_tags(tags)
        now = _now()
        row = Scenario(id=self._next_id, name=name, status="draft", parameters=values, tags=tuple(tag_list),
                       owner=self.owner, created_at=now, updated_at=now)  # fmt: skip
        self._next_id += 1
        self.rows[row.id] = row
        self.events += [("scenario", "creation", "name")] + [("data_node", "update", key) for key in values]
        return row

    def list(self, status: str | None, tag: str | None) -> list[Scenario]:
        rows = sorted(self.rows.values(), key=lambda r: (r.updated_at, r.id), reverse=True)
        return [r for r in rows if (not status or r.status == status) and (not tag or tag in r.tags)]

    def get(self, scenario_id: int) -> Scenario:
        if scenario_id not in self.rows:
            raise ScenarioNotFound(f"there is no scenario {scenario_id!r} in this app")
        return self.rows[scenario_id]

    def update(self, scenario_id: int, name: Any, tags: Any) -> Scenario:
        row = self.get(scenario_id)
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = check_name(name)
        if tags is not None:
            changes["tags"] = tuple(check_tags(tags))
        changes = {k: v for k, v in changes.items() if getattr(row, k) != v}
        self.events += [("scenario", "update", k) for k in changes]
        return self._replace(row, **changes) if changes else row

    def write(self, scenario_id: int, values: dict[str, Any]) -> Scenario:
        row = self.get(scenario_id)
        incoming = check_parameters(values)
        changed = changed_parameters(row.parameters, incoming)
        if not changed:
            return row
        self.events += [("data_node", "update", key) for key in changed]
        return self._replace(row, parameters=check_parameters({**row.parameters, **changed}))

    def delete(self, scenario_id: int) -> None:
        self.get(scenario_id)
        del self.rows[scenario_id]
        self.events.append(("scenario", "deletion", "name"))

    def submit(self, scenario_id: int, function: str, timeout: int | None, title: str) -> Scenario:
        row = self.get(scenario_id)
        if row.status in ACTIVE_STATUSES:
            raise ScenarioBusy(
                f"scenario {row.name!r} is {row.status}: wait for it to end before submitting again"
            )
        self.pending.append((scenario_id, function, title))
        self.events += [("scenario", "submission", ""), ("submission", "creation", "")]
        return self._replace(row, status="submitted", error="", submitted_at=_now(), completed_at=None)

    # --- the test client runs what was submitted ---
    def run_pending(self, run: Callable[[str, dict[str, Any], str], dict[str, Any]]) -> None:
        """``run(function, parameters, title)`` returns a job record: ``status``, ``result`` or ``error``."""
        while self.pending:
            scenario_id, function, title = self.pending.pop(0)
            row = self.rows.get(scenario_id)
            if row is None:
                continue
            self._replace(row, status="running")
            record = run(function, dict(row.parameters), title)
            row = self.rows[scenario_id]
            if record["status"] == "finished":
                self._replace(row, status="completed", results=record.get("result"), completed_at=_now())
            else:
                self._replace(row, status="failed", error=record.get("error", ""), completed_at=_now())
            self.events += [("submission", "update", "status")] * 2

    def summaries(self) -> builtins.list[dict[str, Any]]:
        return [
            summary(
                id=r.id, name=r.name, status=r.status, owner=r.owner, tags=r.tags, updated_at=r.updated_at
            )
            for r in self.list(None, None)[:SESSION_LIST_MAX]
        ]

    def _replace(self, row: Scenario, **changes: Any) -> Scenario:
        self.rows[row.id] = dataclasses.replace(row, updated_at=_now(), **changes)
        return self.rows[row.id]


def _now() -> datetime:
    return datetime.now(UTC)
