"""Scenarios for app code (re-exported by ``dashboards.sdk``): create, list, read, write, submit.

Every function works on the scenarios of the app that is running, in its tenant: an id of
another app or tenant reads as "no such scenario". They return ``Scenario`` snapshots (frozen);
read again to see later changes.

**Writes happen at once**, each in its own transaction, and are kept even if the handler that
made them raises afterwards (they return the scenario, with its id, for the next call to use;
undoing them would hide a row that other users may already see). The tab's state, by contrast,
is rolled back as usual. ``submit_scenario`` starts its job at once too.

They read and write the database, so they run in plain ``def`` handlers and job functions; from
an ``async def`` handler (on the event loop) they raise ``ScenarioError`` saying so.

No Django import at module level: app code imports the SDK in a bare validation process.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from dashboards.jobs.specs import check_title
from dashboards.runtime.context import require_app_context
from dashboards.runtime.loader import function_reference
from dashboards.scenarios.values import (
    STATUSES,
    Scenario,
    ScenarioBusy,
    ScenarioError,
    ScenarioNotFound,
    check_id,
    check_tag_filter,
)

__all__ = [
    "Scenario",
    "ScenarioBusy",
    "ScenarioError",
    "ScenarioNotFound",
    "create_scenario",
    "delete_scenario",
    "get_scenario",
    "list_scenarios",
    "submit_scenario",
    "update_scenario",
    "write_parameters",
]


class ScenarioStore(Protocol):
    """Where scenarios live: the database on the platform, memory in the test client."""

    def create(self, name: Any, parameters: Any, tags: Any) -> Scenario: ...
    def list(self, status: str | None, tag: str | None) -> list[Scenario]: ...
    def get(self, scenario_id: int) -> Scenario: ...
    def update(self, scenario_id: int, name: Any, tags: Any) -> Scenario: ...
    def write(self, scenario_id: int, values: dict[str, Any]) -> Scenario: ...
    def delete(self, scenario_id: int) -> None: ...
    def submit(self, scenario_id: int, function: str, timeout: int | None, title: str) -> Scenario: ...


#: The test client's in-memory store (``dashboards.testing``); None: the database.
scenario_store: contextvars.ContextVar[ScenarioStore | None] = contextvars.ContextVar(
    "scenario_store", default=None
)


def create_scenario(
    name: str, parameters: dict[str, Any] | None = None, *, tags: Iterable[str] = ()
) -> Scenario:
    """A new draft scenario of this app, owned by the user running the code."""
    return _store("create_scenario").create(name, parameters, tags)


def list_scenarios(*, status: str | None = None, tag: str | None = None) -> list[Scenario]:
    """This app's scenarios in this tenant, most recently changed first (at most 200)."""
    if status is not None and status not in STATUSES:
        raise ScenarioError(f"status is one of {', '.join(STATUSES)}")
    return _store("list_scenarios").list(status, check_tag_filter(tag))


def get_scenario(scenario_id: int | Scenario) -> Scenario:
    """One scenario, read now; ``ScenarioNotFound`` if this app has no such scenario."""
    return _store("get_scenario").get(check_id(scenario_id))


def write_parameters(
    scenario_id: int | Scenario, values: dict[str, Any] | None = None, /, **more: Any
) -> Scenario:
    """Set parameters (data nodes): ``write_parameters(s, {"growth": 0.1})`` or ``(s, growth=0.1)``.

    Other keys keep their values. Each changed key emits a data-node event.
    """
    if values is not None and not isinstance(values, dict):
        raise ScenarioError("write_parameters takes a dict of parameters, or keyword arguments")
    return _store("write_parameters").write(check_id(scenario_id), {**(values or {}), **more})


def update_scenario(
    scenario_id: int | Scenario, *, name: str | None = None, tags: Iterable[str] | None = None
) -> Scenario:
    """Rename it, or replace its tags."""
    return _store("update_scenario").update(check_id(scenario_id), name, tags)


def delete_scenario(scenario_id: int | Scenario) -> None:
    _store("delete_scenario").delete(check_id(scenario_id))


def submit_scenario(
    scenario_id: int | Scenario,
    task_function: Callable[[dict[str, Any]], Any],
    *,
    timeout: int | None = None,
    title: str | None = None,
) -> Scenario:
    """Run ``task_function(parameters)`` on a job worker; its return value becomes ``results``.

    ``task_function`` is a module-level function of the app (the job names it, never pickles it);
    it may call ``progress()``. The scenario is ``submitted``, then ``running``, then
    ``completed`` with its results or ``failed`` with the error. ``timeout`` in seconds (default
    10 minutes). ``title`` names the job for people (toasts, the inbox, the Jobs page; default:
    the function's name, humanised). A scenario already submitted or running raises ``ScenarioBusy``.
    """
    store = _store("submit_scenario")
    context = require_app_context("submit_scenario")
    try:
        reference = function_reference(context.package, task_function)
    except TypeError as error:
        raise ScenarioError(f"task_function: {error}") from None
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)):
        raise ScenarioError("timeout is a whole number of seconds")
    try:
        checked_title = check_title(title)
    except ValueError as error:  # JobRefused
        raise ScenarioError(str(error)) from None
    return store.submit(check_id(scenario_id), reference, timeout, checked_title)


def _store(what: str) -> ScenarioStore:
    context = require_app_context(what)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise ScenarioError(
            f"{what} uses the database, which async handlers cannot do on the event loop: "
            "call it from a plain `def` handler"
        )
    store = scenario_store.get()
    if store is not None:
        return store
    from dashboards.scenarios.store import DatabaseScenarios  # noqa: PLC0415 - see the module's docstring

    return DatabaseScenarios(context)
