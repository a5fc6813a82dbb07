"""State values to JSON and back: JSON types, plus tagged codecs for the common richer ones."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
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


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "decimal": decimal.Decimal,
    "set": set,
    "float": float,
}


def _decode_hook(obj: dict[str, Any]) -> Any:
    tag = obj.get(TAG)
    if tag is None:
        return obj
    decoder = _DECODERS.get(tag)
    # Frames and figures come back as their JSON forms, which every component renders.
    return obj["value"] if decoder is None else decoder(obj["value"])


def _is_non_finite_error(error: ValueError) -> bool:
    return str(error).startswith("Out of range float")


def _tag_non_finite(value: Any) -> Any:
    """The value with NaN and the infinities tagged (JSON has no number for them); lists and dicts
    are copied, nothing else is touched."""
    if isinstance(value, float):
        return value if math.isfinite(value) else {TAG: "float", "value": repr(float(value))}
    if isinstance(value, dict):
        return {key: _tag_non_finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_tag_non_finite(item) for item in value]
    return value


def encode(value: Any) -> str:
    """The value's JSON. NaN and the infinities (a DataFrame's missing values, say) are kept, tagged:
    the first attempt assumes there are none, so only a value holding one pays for the copy."""
    try:
        try:
            return json.dumps(value, default=_encode_default, separators=(",", ":"), allow_nan=False)
        except ValueError as error:
            if not _is_non_finite_error(error):
                raise
        return json.dumps(
            _tag_non_finite(value),
            default=lambda item: _tag_non_finite(_encode_default(item)),
            separators=(",", ":"),
            allow_nan=False,
        )
    except ValueError as error:  # circular references
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
    except ValueError as error:
        why = str(error)
        if _is_non_finite_error(error):
            why = "it holds NaN or an infinity, which JSON has no number for"
        raise JsonRefused(f"{what} must be JSON-serialisable: {why}") from None
    except TypeError as error:
        raise JsonRefused(f"{what} must be JSON-serialisable: {error}") from None
    except RecursionError:
        raise JsonRefused(f"{what} must be JSON-serialisable: it is nested too deeply") from None
    if len(text) > limit:
        raise JsonRefused(f"{what} must fit in {limit} bytes of JSON (it takes {len(text)})")
    return json.loads(text)
