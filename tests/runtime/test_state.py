"""Session state: assignment and in-place changes are detected; a failed handler is undone."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from dashboards.runtime import codecs
from dashboards.runtime.state import SessionState


def test_items_and_attributes_and_missing_keys() -> None:
    state = SessionState({"count": 1})
    assert state["count"] == state.count == 1
    assert state["missing"] is None and state.missing is None
    state.count += 1
    state["name"] = "Ada"
    assert state.commit() == {"count", "name"}
    assert state.commit() == set()


def test_reading_is_not_mutating() -> None:
    state = SessionState({"rows": [{"a": 1}], "opts": {"x": [1]}})
    _ = state.rows[0]["a"], list(state.opts.items()), [r for r in state.rows]
    assert state.commit() == set()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.items.append(4),
        lambda s: s.items.extend([4]),
        lambda s: s.items.insert(0, 4),
        lambda s: s.items.pop(),
        lambda s: s.items.remove(1),
        lambda s: s.items.sort(reverse=True),
        lambda s: s.items.reverse(),
        lambda s: s.items.clear(),
        lambda s: s.items.__setitem__(0, 9),
        lambda s: s.items.__delitem__(0),
        lambda s: s.__setattr__("items", [*s.items, 4]),
        lambda s: s.nested.__setitem__("k", 1),
        lambda s: s.nested.update(k=1),
        lambda s: s.nested.setdefault("k", 1),
        lambda s: s.nested.pop("a"),
        lambda s: s.nested["a"]["b"].append(1),
        lambda s: [row.update(seen=True) for row in s.rows],
        lambda s: [v.append(1) for v in s.nested["a"].values()],
    ],
)
def test_in_place_changes_are_detected(mutate) -> None:
    state = SessionState({"items": [1, 2, 3], "nested": {"a": {"b": []}}, "rows": [{"id": 1}]})
    mutate(state)
    assert len(state.commit()) == 1


def test_rollback_restores_assignments_in_place_changes_and_new_keys() -> None:
    state = SessionState({"count": 1, "rows": [{"id": 1}]})
    state.count = 5
    state.rows[0]["id"] = 99
    state.rows.append({"id": 2})
    state.fresh = True
    state.rollback()
    assert state.count == 1
    assert json.dumps(state.values()) == '{"count": 1, "rows": [{"id": 1}]}'
    assert "fresh" not in state
    assert state.commit() == set()


def test_rollback_drops_queued_commands() -> None:
    state = SessionState()
    state.queue_command({"type": "dashboards:toast"})
    state.rollback()
    assert state.take_commands() == []


def test_a_detached_state_refuses_the_timed_out_handler() -> None:
    state = SessionState({"items": [1]})
    items = state.items
    state.count = 3
    fresh = state.detach()
    assert fresh.count is None and fresh.items == [1]
    with pytest.raises(RuntimeError):
        state.count = 4
    with pytest.raises(RuntimeError):
        items.append(2)
    assert fresh.items == [1]


def test_state_values_serialise_as_plain_json() -> None:
    state = SessionState({"rows": [{"a": [1, {"b": 2}]}]})
    state.rows[0]["a"][1]["b"] = 3
    assert json.loads(json.dumps(state.values())) == {"rows": [{"a": [1, {"b": 3}]}]}


@pytest.mark.parametrize(
    ("key", "error", "words"),
    [
        (1, TypeError, "strings, not int"),
        ("__release__", ValueError, "the platform's"),  # the snapshot's own field
        ("k" * 201, ValueError, "at most 200"),
        ("caf\udcff", ValueError, "unpaired surrogate"),
        ("a\x00b", ValueError, "NUL"),
    ],
)
def test_keys_a_snapshot_cannot_hold_are_refused_when_assigned(key, error, words) -> None:
    state = SessionState({"count": 1})
    with pytest.raises(error, match=words):
        state[key] = 1
    assert state.mutated_keys() == set() and state.keys() == ["count"]
    state["_private"] = state["café ☕"] = 2  # private keys and any real text are fine
    assert state.mutated_keys() == {"_private", "café ☕"}


def test_nan_and_infinities_are_kept_and_come_back() -> None:
    """A DataFrame's missing values are NaN: JSON has no number for them, the codec tags them."""
    value = {"rows": [[1.5, math.nan], (math.inf, -math.inf)], "set": {2.5}, "when": date(2026, 12, 6)}
    text = codecs.encode(value)
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    back = codecs.decode(text)
    assert math.isnan(back["rows"][0][1]) and back["rows"][1] == [math.inf, -math.inf]
    assert back["set"] == {2.5} and back["when"] == date(2026, 12, 6) and back["rows"][0][0] == 1.5
    assert codecs.encode([1.5, 2]) == "[1.5,2]"  # what holds none is encoded as before


def test_circular_and_unknown_values_are_still_refused() -> None:
    circular: list[object] = [math.nan]
    circular.append(circular)
    for value in (circular, object()):
        with pytest.raises(codecs.NotSerialisable):
            codecs.encode(value)


def test_in_place_changes_of_sets_are_tracked_and_undone() -> None:
    from dashboards.runtime import codecs

    state = SessionState({"tags": {"a"}, "nested": {"seen": {1}}})
    state.commit()
    state.tags.add("b")
    state.nested["seen"] |= {2, 3}
    assert state.mutated_keys() == {"tags", "nested"}
    assert state.commit() == {"tags", "nested"}
    state.tags.discard("a")
    state.nested["seen"].clear()
    state.rollback()
    assert state.tags == {"a", "b"} and state.nested == {"seen": {1, 2, 3}}
    assert codecs.decode(codecs.encode(state.values())) == {"tags": {"a", "b"}, "nested": {"seen": {1, 2, 3}}}
    union = state.tags | {"c"}  # operators and copies are plain sets: changing them changes no key
    union.add("d")
    state.tags.copy().add("e")
    assert state.mutated_keys() == set()
    shown = SessionState({"s": {"a"}}).s
    assert repr(shown) == str(shown) == "{'a'}"  # as a page shows it


def test_a_set_stored_under_two_keys_is_two_sets() -> None:
    state = SessionState({"first": {1}})
    state.second = state.first
    state.commit()
    state.second.add(2)
    assert state.first == {1} and state.mutated_keys() == {"second"}
