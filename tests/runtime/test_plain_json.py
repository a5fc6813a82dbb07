"""The one check for plain JSON that crosses a process or lands in a row (job arguments and
results, scenario parameters, events' values, emissions)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from dashboards.runtime.codecs import JsonRefused, bounded_json_copy, json_size


def test_the_copy_is_plain_json_and_not_the_callers_object() -> None:
    original = {"rows": [(1, 2)], "name": "x"}
    copy = bounded_json_copy(original, limit=100, what="arguments")
    assert copy == {"rows": [[1, 2]], "name": "x"}
    original["name"] = "changed later"
    assert copy["name"] == "x"


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, {1j}, object()],
    ids=["nan", "infinity", "a set", "an object"],
)
def test_what_is_not_json_is_refused_with_the_reason(value: object) -> None:
    with pytest.raises(JsonRefused, match=r"^arguments must be JSON-serialisable: "):
        bounded_json_copy(value, limit=100, what="arguments")
    assert json_size(value) is None


def test_circular_and_deeply_nested_values_are_refused_not_crashed_on() -> None:
    circular: list[object] = []
    circular.append(circular)
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    for value in (circular, deep):
        with pytest.raises(JsonRefused, match="must be JSON-serialisable"):
            bounded_json_copy(value, limit=10**9, what="its result")
        assert json_size(value) is None


def test_over_the_limit_says_the_limit_and_the_size() -> None:
    assert bounded_json_copy("x" * 8, limit=10, what="a value") == "x" * 8  # "xxxxxxxx" is 10 bytes
    with pytest.raises(JsonRefused, match=r"^a value must fit in 10 bytes of JSON \(it takes 11\)$"):
        bounded_json_copy("x" * 9, limit=10, what="a value")


def test_default_converts_what_the_caller_allows() -> None:
    assert bounded_json_copy({"on": date(2026, 1, 2)}, limit=100, what="v", default=str) == {
        "on": "2026-01-02"
    }
    assert json_size({"on": date(2026, 1, 2)}, default=str) == len('{"on": "2026-01-02"}')


def nested(depth: int) -> object:
    value: object = "core"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def test_nesting_is_bounded_whatever_the_stack_it_is_checked_on() -> None:
    """A value that passed on a shallow stack was read back on a deeper one, and failed there."""
    from dashboards.runtime.codecs import json_text_depth
    from dashboards.runtime.limits import JSON_MAX_DEPTH

    assert bounded_json_copy(nested(JSON_MAX_DEPTH), limit=10**6, what="its result") == nested(JSON_MAX_DEPTH)
    with pytest.raises(JsonRefused, match=f"nests lists and dicts more than {JSON_MAX_DEPTH} deep"):
        bounded_json_copy(nested(JSON_MAX_DEPTH + 1), limit=10**6, what="its result")
    assert json_text_depth('{"a": "[[[{{", "b": ["\\"]", [1]]}') == 3  # brackets in strings do not count
    assert json_text_depth("17") == 0
