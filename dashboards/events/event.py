"""What an event is, and which events a subscription wants: plain values, no Django, no I/O.

An ``Event`` says that something of a tenant changed: its entity (type and id), the operation,
optionally the attribute and its new value, when, and by whom. It travels as JSON through Redis
(``as_message`` / ``from_message``) and is handed to app code as is; it is a hint that something
changed, and the database stays the truth.

App code imports this through the SDK while a release is validated in a bare process, so nothing
here may import Django.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class EntityType(enum.StrEnum):
    APP = "app"
    RELEASE = "release"
    SCENARIO = "scenario"
    DATA_NODE = "data_node"
    JOB = "job"
    SUBMISSION = "submission"
    NOTIFICATION = "notification"
    CUSTOM = "custom"


class Operation(enum.StrEnum):
    CREATION = "creation"
    UPDATE = "update"
    DELETION = "deletion"
    SUBMISSION = "submission"


ENTITY_TYPES = tuple(e.value for e in EntityType)
OPERATIONS = tuple(o.value for o in Operation)


def entity_type_of(value: Any) -> str:
    """The entity type named by ``value``; ValueError naming the known ones otherwise."""
    text = str(value.value if isinstance(value, enum.Enum) else value).lower()
    if text not in ENTITY_TYPES:
        raise ValueError(f"unknown entity type {value!r}: use one of {', '.join(ENTITY_TYPES)}")
    return text


def operation_of(value: Any) -> str:
    text = str(value.value if isinstance(value, enum.Enum) else value).lower()
    if text not in OPERATIONS:
        raise ValueError(f"unknown operation {value!r}: use one of {', '.join(OPERATIONS)}")
    return text


@dataclass(frozen=True)
class Event:
    """One change of one entity of a tenant (Taipy's Event, plus who, where and the log id)."""

    entity_type: str
    operation: str
    entity_id: str = ""
    attribute_name: str = ""
    attribute_value: Any = None
    creation_date: datetime = field(default_factory=lambda: datetime.now(UTC))
    metadata: dict[str, Any] = field(default_factory=dict)
    tenant_id: int = 0
    app_id: int | None = None
    user_id: int | None = None
    id: int | None = None  # the event log's row; None for events that are not logged (progress)

    def as_message(self) -> dict[str, Any]:
        return {
            "entity_type": self.entity_type,
            "operation": self.operation,
            "entity_id": self.entity_id,
            "attribute_name": self.attribute_name,
            "attribute_value": self.attribute_value,
            "creation_date": self.creation_date.isoformat(),
            "metadata": self.metadata,
            "tenant_id": self.tenant_id,
            "app_id": self.app_id,
            "user_id": self.user_id,
            "id": self.id,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Event:
        return cls(
            entity_type=str(message["entity_type"]),
            operation=str(message["operation"]),
            entity_id=str(message.get("entity_id") or ""),
            attribute_name=str(message.get("attribute_name") or ""),
            attribute_value=message.get("attribute_value"),
            creation_date=datetime.fromisoformat(message["creation_date"]),
            metadata=dict(message.get("metadata") or {}),
            tenant_id=int(message.get("tenant_id") or 0),
            app_id=None if message.get("app_id") is None else int(message["app_id"]),
            user_id=None if message.get("user_id") is None else int(message["user_id"]),
            id=None if message.get("id") is None else int(message["id"]),
        )


@dataclass(frozen=True)
class EventFilter:
    """Which events a subscription wants: each given field must match; ``predicate`` has the last word.

    Built at registration, so a filter naming an unknown entity type or operation fails there.
    """

    entity_type: str | None = None
    entity_id: str | None = None
    operation: str | None = None
    attribute_name: str | None = None
    predicate: Callable[[Event], bool] | None = None

    @classmethod
    def build(
        cls,
        *,
        entity_type: Any = None,
        entity_id: Any = None,
        operation: Any = None,
        attribute_name: Any = None,
        predicate: Callable[[Event], bool] | None = None,
    ) -> EventFilter:
        if predicate is not None and not callable(predicate):
            raise TypeError("filter must be a function of the event that returns True or False")
        return cls(
            entity_type=None if entity_type is None else entity_type_of(entity_type),
            entity_id=None if entity_id is None else str(entity_id),
            operation=None if operation is None else operation_of(operation),
            attribute_name=None if attribute_name is None else str(attribute_name),
            predicate=predicate,
        )

    def matches(self, event: Event) -> bool:
        """The fields, then the predicate (app code: its caller runs this where app code may run)."""
        return self.matches_fields(event) and (self.predicate is None or bool(self.predicate(event)))

    def matches_fields(self, event: Event) -> bool:
        """Without the predicate: safe to test anywhere, even on a server's event loop."""
        if self.entity_type is not None and event.entity_type != self.entity_type:
            return False
        if self.operation is not None and event.operation != self.operation:
            return False
        if self.entity_id is not None and event.entity_id != self.entity_id:
            return False
        return self.attribute_name is None or event.attribute_name == self.attribute_name

    def coarse(self) -> dict[str, str | None]:
        """The JSON-able part (no predicate): what a process that has not loaded the app can test."""
        return {"entity_type": self.entity_type, "operation": self.operation,
                "entity_id": self.entity_id, "attribute_name": self.attribute_name}  # fmt: skip

    @classmethod
    def from_coarse(cls, values: dict[str, Any]) -> EventFilter:
        return cls.build(
            **{k: values.get(k) for k in ("entity_type", "operation", "entity_id", "attribute_name")}
        )
