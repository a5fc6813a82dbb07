"""State values to JSON and back: JSON types, plus tagged codecs for the common richer ones.

A tagged value is a JSON object of exactly two members: ``{"__codec__": name, "value": ...}``.
A dict of the app's own that holds the tag key (a browser's payload kept as it came, say) is
escaped on the way in, as the ``dict`` codec (its items as pairs), so it comes back as the very
same dict, never as whatever its members spell. Dicts whose keys are not all strings take the
same codec, so ``{1: "one"}`` comes back with its int key. A set's items and a dict's keys come
back hashable: tuples and frozensets in them are tagged. Anywhere else a tuple comes back as a
list, as in JSON.

Decoding is strict: anything the encoder never writes raises ``Undecodable``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import Any

from dashboards.runtime.limits import JSON_MAX_DEPTH

TAG = "__codec__"
_TAGGED_MEMBERS = frozenset({TAG, "value"})
# What the walk of _escape never looks into (bool too: type() is looked up, not isinstance).
_PLAIN = frozenset({str, int, float, bool, type(None)})
_STR = frozenset({str})


class NotSerialisable(TypeError):
    pass


class Undecodable(ValueError):
    """Text the encoder never wrote: a snapshot written by something else, or damaged."""


def _keyable(item: Any) -> Any:
    """A set's item or a dict's key, in a form that decodes to an equal, hashable value."""
    if isinstance(item, str | int | float | dt.date | decimal.Decimal) or item is None:
        return item  # dates and decimals: tagged by _encode_default, back as themselves
    if isinstance(item, tuple):
        return {TAG: "tuple", "value": [_keyable(part) for part in item]}
    if isinstance(item, frozenset):
        return {TAG: "frozenset", "value": [_keyable(part) for part in sorted(item, key=repr)]}
    if hasattr(item, "item") and callable(item.item):  # numpy scalars
        return _keyable(item.item())
    raise NotSerialisable(f"{type(item).__name__} cannot be kept as a set's item or a dict's key")


def _escape(value: Any) -> Any:
    """The value, or a copy of it in which every dict that holds the tag key, or a key that is not
    a string, is tagged ``dict``. A dict costs a look-up of the tag and a look at the types of its
    keys and values (in C); Python loops only over items that are lists, tuples or dicts."""
    if isinstance(value, dict):
        return _escape_dict(value)
    if isinstance(value, list):  # list's own iterator: a TrackedList's wraps each item it reads
        return _escape_items(value, list.__iter__)
    if isinstance(value, tuple):
        return _escape_items(value, tuple.__iter__)
    return value


def _escape_items(value: Any, iterate: Callable[[Any], Iterator[Any]]) -> Any:
    if _PLAIN.issuperset(map(type, iterate(value))):
        return value
    copied: list[Any] | None = None
    for index, item in enumerate(iterate(value)):
        if type(item) in _PLAIN:
            continue
        escaped = _escape(item)
        if escaped is not item:
            if copied is None:
                copied = list(iterate(value))
            copied[index] = escaped
    return value if copied is None else copied


def _escape_dict(value: dict[Any, Any]) -> Any:
    copied: dict[Any, Any] | None = None
    if not _PLAIN.issuperset(map(type, dict.values(value))):  # dict's own: a TrackedDict's wrap
        for key, item in dict.items(value):
            if type(item) in _PLAIN:
                continue
            escaped = _escape(item)
            if escaped is not item:
                if copied is None:
                    copied = dict(dict.items(value))
                copied[key] = escaped
    source = value if copied is None else copied
    if TAG not in value and (_STR.issuperset(map(type, value)) or all(isinstance(key, str) for key in value)):
        return source
    pairs = [[key if isinstance(key, str) else _keyable(key), item] for key, item in dict.items(source)]
    return {TAG: "dict", "value": pairs}


def _encode_default(value: Any) -> Any:  # noqa: PLR0911 - one return per codec
    if isinstance(value, dt.datetime):
        iso = value.isoformat()
        # pandas' NaT is a datetime that no parser reads back: kept as None, as NaN is
        return None if iso == "NaT" else {TAG: "datetime", "value": iso}
    if isinstance(value, dt.date):
        return {TAG: "date", "value": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {TAG: "decimal", "value": str(value)}
    if isinstance(value, set | frozenset):
        return {TAG: "set", "value": [_keyable(item) for item in sorted(value, key=repr)]}
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a pandas DataFrame
        split = value.to_dict(orient="split")
        return {TAG: "dataframe", "value": _escape({"columns": split["columns"], "data": split["data"]})}
    if hasattr(value, "to_plotly_json"):  # a Plotly figure
        return {TAG: "figure", "value": _escape(value.to_plotly_json())}
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    raise NotSerialisable(f"{type(value).__name__} cannot be kept in session state")


def _expecting(kind: type, decoder: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def decode_checked(value: Any) -> Any:
        if not isinstance(value, kind):
            raise Undecodable(f"a {type(value).__name__} where the codec writes a {kind.__name__}")
        return decoder(value)

    return decode_checked


def _pairs_to_dict(pairs: list[Any]) -> dict[Any, Any]:
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise Undecodable("a dict's items are not all pairs")
    return dict(pairs)  # TypeError for a key that is not hashable


def _same(value: Any) -> Any:
    return value


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "datetime": _expecting(str, dt.datetime.fromisoformat),
    "date": _expecting(str, dt.date.fromisoformat),
    "decimal": _expecting(str, decimal.Decimal),
    "set": _expecting(list, set),
    "frozenset": _expecting(list, frozenset),
    "tuple": _expecting(list, tuple),
    "dict": _expecting(list, _pairs_to_dict),
    "float": _expecting(str, float),
    # Frames and figures come back as their JSON forms, which every component renders.
    "dataframe": _expecting(dict, _same),
    "figure": _expecting(dict, _same),
}


def _decode_hook(obj: dict[str, Any]) -> Any:
    if TAG not in obj:
        return obj
    tag = obj[TAG]
    decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
    if decoder is None or obj.keys() != _TAGGED_MEMBERS:
        raise Undecodable(f"an object tagged {str(tag)[:40]!r} that the codec never writes")
    return decoder(obj["value"])


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
        value = _escape(value)
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
        raise NotSerialisable("it is nested too deeply, or holds itself") from None


def decode(text: str | bytes) -> Any:
    """The value encode() wrote; Undecodable for any text it never writes."""
    try:
        return json.loads(text, object_hook=_decode_hook)
    except Undecodable:
        raise
    except Exception as error:  # not JSON, not UTF-8, a bad date or decimal, an unhashable item
        raise Undecodable(f"{type(error).__name__}: {str(error)[:200]}") from None


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


_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """The text with what no store can hold (NUL, unpaired surrogates) shown as U+FFFD."""
    return _UNSTORABLE_CHARACTER.sub("\ufffd", text)


def unstorable_text(value: Any) -> str | None:
    """What no store (PostgreSQL's text and JSON, a UTF-8 frame) can hold in the strings (keys
    too) of a JSON value, if anything: a NUL character or an unpaired surrogate.

    A loop with a stack, not recursion: the value may be nested as deep as the decoder went.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and (found := _UNSTORABLE_CHARACTER.search(item)):
            return (
                "a NUL character"
                if found.group() == "\x00"
                else "an unpaired surrogate, which is not Unicode"
            )
    return None


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # unrolled: 5x faster on long strings
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_text_depth(text: str) -> int:
    """How deep lists and dicts nest in a JSON text (``json.dumps``'s), with no recursion."""
    brackets = _JSON_BRACKET.findall(_JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


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
    if json_text_depth(text) > JSON_MAX_DEPTH:
        raise JsonRefused(f"{what} must be JSON-serialisable: it nests lists and dicts more than "
                          f"{JSON_MAX_DEPTH} deep")  # fmt: skip
    return json.loads(text)
