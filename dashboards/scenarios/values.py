"""What a scenario is for app code, and the checks of its input: plain values, no Django, no I/O.

App code imports the SDK (which imports this) while its release is validated in a bare process,
so nothing here may import Django. The services, the SDK and the test client's in-memory store
all check input with these functions, so a name, a tag or a parameter is refused the same way
everywhere.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from dashboards.runtime.codecs import JsonRefused, bounded_json_copy, unstorable_text
from dashboards.scenarios.limits import (
    NAME_MAX_CHARS,
    PARAMETER_KEY_MAX_CHARS,
    PARAMETERS_MAX_BYTES,
    TAG_MAX_CHARS,
    TAGS_MAX,
)

STATUSES = ("draft", "submitted", "running", "completed", "failed")
ACTIVE_STATUSES = frozenset({"submitted", "running"})


class ScenarioError(ValueError):
    """Bad input to a scenario function; the message says what to change."""


class ScenarioNotFound(ScenarioError):
    """No such scenario in this app of this tenant (another tenant's id reads the same)."""


class ScenarioBusy(ScenarioError):
    """The scenario is submitted or running: it cannot be submitted again until that ends."""


@dataclass(frozen=True)
class Scenario:
    """A snapshot of one scenario, as app code sees it (re-read it to see later changes).

    ``parameters`` are its data nodes (a JSON dict); ``results`` what its task function returned
    (any JSON value) once completed; ``error`` why it failed.
    """

    id: int
    name: str
    status: str
    parameters: dict[str, Any] = field(default_factory=dict)
    results: Any = None
    tags: tuple[str, ...] = ()
    owner: str = ""
    error: str = ""
    job_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    completed_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (times as ISO strings), to keep in a tab's state."""
        values = asdict(self)
        values["tags"] = list(self.tags)
        for name in ("created_at", "updated_at", "submitted_at", "completed_at"):
            values[name] = values[name].isoformat() if values[name] else None
        return values


def summary(
    *,
    id: int,  # noqa: A002 - the field's name
    name: str,
    status: str,
    owner: str = "",
    tags: Any = (),
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """The small dict the scenario components read from the ``scenarios`` state key (JSON only)."""
    return {
        "id": id,
        "name": name,
        "status": status,
        "owner": owner,
        "tags": list(tags or ()),
        "updated": updated_at.strftime("%Y-%m-%d %H:%M") if updated_at else "",
    }


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError("a scenario needs a name (a non-empty string)")
    name = name.strip()
    if len(name) > NAME_MAX_CHARS:
        raise ScenarioError(f"a scenario's name is at most {NAME_MAX_CHARS} characters")
    _require_storable("a scenario's name", name)
    return name


def _require_storable(what: str, value: Any) -> None:
    """PostgreSQL stores no NUL and UTF-8 no lone surrogate: refused here, with the reason."""
    problem = unstorable_text(value)
    if problem:
        raise ScenarioError(f"{what} holds {problem}")


def check_tags(tags: Any) -> list[str]:
    if isinstance(tags, str):
        raise ScenarioError("tags is a list of strings, not one string: tags=['q3']")
    try:
        values = list(tags or ())
    except TypeError:
        raise ScenarioError("tags is a list of strings") from None
    cleaned: list[str] = []
    for tag in values:
        if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > TAG_MAX_CHARS:
            raise ScenarioError(f"each tag is a non-empty string of at most {TAG_MAX_CHARS} characters")
        if tag.strip() not in cleaned:
            cleaned.append(tag.strip())
    if len(cleaned) > TAGS_MAX:
        raise ScenarioError(f"a scenario has at most {TAGS_MAX} tags")
    _require_storable("a tag", cleaned)
    return cleaned


def check_parameters(values: Any) -> dict[str, Any]:
    """Parameters as plain JSON (a copy), or ScenarioError saying why not."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ScenarioError(f"parameters are a dict of name to JSON value, not {type(values).__name__}")
    for key in values:
        if not isinstance(key, str) or not key or len(key) > PARAMETER_KEY_MAX_CHARS:
            raise ScenarioError(
                f"parameter names are non-empty strings of at most {PARAMETER_KEY_MAX_CHARS} characters"
            )
    try:
        copied = bounded_json_copy(values, limit=PARAMETERS_MAX_BYTES, what="a scenario's parameters")
    except JsonRefused as error:
        raise ScenarioError(str(error)) from None
    _require_storable("a scenario's parameters", copied)
    return copied


def check_id(scenario_id: Any) -> int:
    if isinstance(scenario_id, Scenario):
        return scenario_id.id
    # A whole number, or its digits (a scenario's id read from a select): 1.9 is no id, nor True.
    if isinstance(scenario_id, int) and not isinstance(scenario_id, bool):
        value = scenario_id
    elif isinstance(scenario_id, str) and scenario_id.strip().isascii() and scenario_id.strip().isdigit():
        value = int(scenario_id.strip())
    else:
        raise ScenarioNotFound(f"there is no scenario {scenario_id!r}")
    if value <= 0:
        raise ScenarioNotFound(f"there is no scenario {scenario_id!r}")
    return value


def changed_parameters(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The keys whose value differs as JSON: Python's ``True == 1 == 1.0`` would drop a change."""
    return {
        key: value
        for key, value in incoming.items()
        if key not in current or json.dumps(current[key], sort_keys=True) != json.dumps(value, sort_keys=True)
    }


def check_tag_filter(tag: Any) -> str | None:
    if tag is None or tag == "":
        return None
    if not isinstance(tag, str):
        raise ScenarioError(f"tag is a string, not {type(tag).__name__}")
    _require_storable("a tag", tag)
    return tag.strip()
