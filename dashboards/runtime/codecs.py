"""State values to JSON and back: JSON types, plus tagged codecs for the common richer ones."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Callable
from typing import Any

TAG = "__codec__"


class NotSerialisable(TypeError):
    pass


def _encode_default(value: Any) -> Any:  # noqa: PLR0911 - one return per codec
    if isinstance(value, dt.datetime):
        return {TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, dt.date):
        return {TAG: "date", "value": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {TAG: "decimal", "value": str(value)}
    if isinstance(value, set | frozenset):
        return {TAG: "set", "value": sorted(value, key=repr)}
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a pandas DataFrame
        split = value.to_dict(orient="split")
        return {TAG: "dataframe", "value": {"columns": split["columns"], "data": split["data"]}}
    if hasattr(value, "to_plotly_json"):  # a Plotly figure
        return {TAG: "figure", "value": value.to_plotly_json()}
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    raise NotSerialisable(f"{type(value).__name__} cannot be kept in session state")


def _decode_hook(obj: dict[str, Any]) -> Any:
    tag = obj.get(TAG)
    if tag is None:
        return obj
    value = obj["value"]
    if tag == "datetime":
        return dt.datetime.fromisoformat(value)
    if tag == "date":
        return dt.date.fromisoformat(value)
    if tag == "decimal":
        return decimal.Decimal(value)
    if tag == "set":
        return set(value)
    # Frames and figures come back as their JSON forms, which every component renders.
    return value


def encode(value: Any) -> str:
    try:
        return json.dumps(value, default=_encode_default, separators=(",", ":"), allow_nan=False)
    except ValueError as error:  # NaN, infinity, circular references
        raise NotSerialisable(str(error)) from None
    except RecursionError:
        raise NotSerialisable("it is nested too deeply") from None


def decode(text: str | bytes) -> Any:
    return json.loads(text, object_hook=_decode_hook)


# --- plain JSON that crosses a process or lands in a row: job arguments and results, scenario
# parameters, events' values, emissions. Checked one way everywhere, with the reason in words.


class JsonRefused(ValueError):
    """Not JSON, or its JSON is over a limit; the message says which, for the app's author."""


def json_size(value: Any, *, default: Callable[[Any], Any] | None = None) -> int | None:
    """Bytes of the value's JSON, or None when it is not JSON (NaN and infinity are not)."""
    try:
        return len(json.dumps(value, allow_nan=False, default=default))
    except (TypeError, ValueError, RecursionError):
        return None


def bounded_json_copy(
    value: Any, *, limit: int, what: str, default: Callable[[Any], Any] | None = None
) -> Any:
    """A plain-JSON copy of the value (tuples become lists, `default` converts the rest), or
    JsonRefused: a copy, so what is kept is what was checked, whatever the caller changes later."""
    try:
        text = json.dumps(value, allow_nan=False, default=default)
    except (TypeError, ValueError) as error:
        raise JsonRefused(f"{what} must be JSON-serialisable: {error}") from None
    except RecursionError:
        raise JsonRefused(f"{what} must be JSON-serialisable: it is nested too deeply") from None
    if len(text) > limit:
        raise JsonRefused(f"{what} must fit in {limit} bytes of JSON (it takes {len(text)})")
    return json.loads(text)
