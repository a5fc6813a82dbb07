"""What an event may carry: small JSON, and text every store can hold. No database here, so the
test client for app authors checks an emitted event as the platform does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from dashboards.events.limits import ATTRIBUTE_VALUE_MAX_BYTES, METADATA_MAX_BYTES
from dashboards.runtime.codecs import JsonRefused, bounded_json_copy, unstorable_text


class EventRefused(ValueError):
    """Bad input to ``emit_event``: the message says what to change."""


def event_fields_checked(
    *, entity_id: Any, attribute_name: Any, attribute_value: Any, metadata: dict[str, Any] | None
) -> tuple[Any, dict[str, Any]]:
    """The value and metadata as kept (JSON copies), or EventRefused saying what is wrong."""
    require_storable("the event's id and attribute name", [str(entity_id or ""), str(attribute_name or "")])
    value = _bounded("attribute_value", attribute_value, ATTRIBUTE_VALUE_MAX_BYTES)
    extra = _bounded("metadata", dict(metadata or {}), METADATA_MAX_BYTES)
    return value, extra


def _bounded(what: str, value: Any, limit: int) -> Any:
    try:
        copied = bounded_json_copy(value, limit=limit, what=what, default=_plain)
    except JsonRefused as error:
        raise EventRefused(str(error)) from None
    require_storable(what, copied)
    return copied


def require_storable(what: str, value: Any) -> None:
    """PostgreSQL stores no NUL and UTF-8 no lone surrogate: refused here, with the reason."""
    problem = unstorable_text(value)
    if problem:
        raise EventRefused(f"{what} holds {problem}")


def _plain(value: Any) -> str:
    """Dates, decimals and ids travel as text; anything else is refused."""
    if isinstance(value, date | Decimal | UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
