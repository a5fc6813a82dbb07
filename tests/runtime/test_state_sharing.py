"""Session state: one list or dict is never shared by two keys; undo survives replaced values;
copies of tracked values still report changes to their items; keys named like State's methods."""

from __future__ import annotations

import copy
import json

import pytest

from dashboards.runtime.state import SessionState, TrackedDict, TrackedList


def plain(state: SessionState) -> object:
    return json.loads(json.dumps(state.values()))


# --- 1. a value assigned from another key is that key's own copy ---


def test_assigning_another_keys_list_stores_a_copy() -> None:
    state = SessionState({"a": [1], "b": [2]})
    state.a = state.b
    assert state.commit() == {"a"}
    state.b.append(99)
    assert state.commit() == {"b"}
    assert plain(state) == {"a": [2], "b": [2, 99]}
    state.a.append(7)
    assert state.commit() == {"a"} and state.b == [2, 99]


def test_an_item_of_another_key_is_copied_and_rollback_restores_every_key() -> None:
    state = SessionState({"rows": [{"name": "a", "qty": 1}, {"name": "b", "qty": 2}], "selected": None})
    state.selected = state.rows[1]
    state.commit()
    state.rows[1]["qty"] += 10
    assert state.commit() == {"rows"}
    assert state.selected == {"name": "b", "qty": 2}
    state.rows[1]["qty"] += 100
    state.selected["qty"] = 5
    assert state.mutated_keys() == {"rows", "selected"}
    state.rollback()
    assert plain(state) == {
        "rows": [{"name": "a", "qty": 1}, {"name": "b", "qty": 12}],
        "selected": {"name": "b", "qty": 2},
    }


@pytest.mark.parametrize(
    "share",
    [
        lambda s: s.__setattr__("a", [s.b]),
        lambda s: s.__setattr__("a", {"x": (s.b,)}),
        lambda s: s.a.append(s.b),
        lambda s: s.a.insert(0, s.b),
        lambda s: s.a.extend([s.b]),
        lambda s: s.a.__iadd__([s.b]),
        lambda s: s.a.__setitem__(slice(0, 0), [s.b]),
        lambda s: s.a.__setitem__(0, s.b),
        lambda s: s.d.__setitem__("x", s.b),
        lambda s: s.d.update(x=s.b),
        lambda s: s.d.update({"x": [s.b]}),
        lambda s: s.d.__ior__({"x": s.b}),
        lambda s: s.d.setdefault("x", s.b),
    ],
)
def test_another_keys_list_stored_anywhere_is_copied(share) -> None:
    state = SessionState({"a": [0], "b": [2], "d": {}})
    share(state)
    state.commit()
    before = plain(state)
    state.b.append(99)
    assert state.commit() == {"b"}
    after = plain(state)
    assert {k: v for k, v in after.items() if k != "b"} == {k: v for k, v in before.items() if k != "b"}


def test_another_tabs_value_is_copied() -> None:
    first, second = SessionState({"items": [[1]]}), SessionState()
    second.items = first.items
    second.mine = [first.items[0]]
    first.items[0].append(2)
    assert second.items == [[1]] and second.mine == [[1]] and second.commit() == {"items", "mine"}
    second.items[0].append(3)
    assert first.commit() == {"items"} and first.items == [[1, 2]]


def test_a_key_keeps_its_own_items_when_reassigned() -> None:
    """[*state.items, 4] holds the same tracked rows: no copy, changes to them still count."""
    state = SessionState({"items": [{"id": 1}]})
    first = state.items[0]
    state.items = [*state.items, {"id": 2}]
    assert state.items[0] is first
    state.commit()
    state.items[0]["id"] = 9
    assert state.commit() == {"items"}
    state.rows = state.rows  # assigning a key its own value is no copy either
    state.items = state.items
    assert state.items[0] is first


# --- 2. undo after the value was replaced or deleted ---


def test_rollback_ignores_changes_to_a_replaced_value() -> None:
    state = SessionState({"items": ["a"], "d": {"k": [1]}})
    old = state.items
    state.items = []
    old.append("junk")
    old_d = state.d
    del state["d"]
    old_d["k"].append(2)
    state.rollback()
    assert plain(state) == {"items": ["a"], "d": {"k": [1]}}


def test_rollback_after_a_reassignment_sharing_items_then_changing_them() -> None:
    state = SessionState({"rows": [{"id": 1}], "same": [1]})
    state.rows = [*state.rows, {"id": 2}]
    state.rows[0]["id"] = 99
    state.same = state.same
    state.same.append(2)
    state.rollback()
    assert plain(state) == {"rows": [{"id": 1}], "same": [1]}


def test_an_assignment_alone_copies_nothing() -> None:
    state = SessionState({"rows": [{"id": 1}]})
    old = state.rows
    state.rows = []
    assert state._originals["rows"] is old  # kept as it is, copied only should it change
    state.rollback()
    assert state.rows is old


# --- 3. copies hold the same tracked items ---


@pytest.mark.parametrize(
    "change",
    [
        lambda s: [row["tags"].append("z") for row in s.rows[:]],
        lambda s: [row["tags"].append("z") for row in s.rows[::-1]],
        lambda s: [row["tags"].append("r") for row in reversed(s.rows)],
        lambda s: s.rows.copy()[0]["tags"].append("c"),
        lambda s: copy.copy(s.rows)[0]["tags"].append("c"),
        lambda s: (s.rows + [])[0]["tags"].append("+"),  # noqa: RUF005 - the operator is the test
        lambda s: ([] + s.rows)[0]["tags"].append("+"),  # noqa: RUF005
        lambda s: (s.rows * 2)[1]["tags"].append("*"),
        lambda s: dict(s.d)["inner"]["l"].append(2),
        lambda s: {**s.d}["inner"]["l"].append(2),
        lambda s: s.d.copy()["inner"]["l"].append(2),
        lambda s: copy.copy(s.d)["inner"]["l"].append(2),
        lambda s: (s.d | {})["inner"]["l"].append(2),
        lambda s: ({} | s.d)["inner"]["l"].append(2),
        lambda s: dict(**s.d)["inner"]["l"].append(2),
    ],
)
def test_changes_through_copies_are_detected_and_undone(change) -> None:
    state = SessionState({"rows": [{"tags": ["x"]}], "d": {"inner": {"l": [1]}}})
    before = plain(state)
    change(state)
    assert len(state.mutated_keys()) == 1 and plain(state) != before
    state.rollback()
    assert plain(state) == before


def test_changing_a_copy_itself_is_no_change() -> None:
    state = SessionState({"m": [[1], [2]], "d": {"k": 1}})
    copies = [state.m[:], state.m.copy(), copy.copy(state.m), state.m + []]  # noqa: RUF005
    for each in copies:
        assert type(each) is list and type(each[0]) is TrackedList
        each.append(3)
    d = state.d.copy()
    assert type(d) is dict
    d["k"] = 2
    {**state.d}.clear()
    assert state.commit() == set() and plain(state) == {"m": [[1], [2]], "d": {"k": 1}}


def test_setdefault_of_a_present_key_is_no_change() -> None:
    state = SessionState({"d": {"inner": {"l": [1]}}})
    state.d.setdefault("inner", {})["l"].append(7)
    assert state.commit() == {"d"}
    assert type(state.d.setdefault("inner")) is TrackedDict and state.commit() == set()


# --- 4. keys named like the state's methods ---


@pytest.mark.parametrize(
    "name", ["values", "keys", "get", "commit", "rollback", "detach", "_values", "_closed"]
)
def test_keys_named_like_the_states_own_attributes_need_item_syntax(name) -> None:
    state = SessionState({name: [1]})
    with pytest.raises(AttributeError, match=rf"state\.{name} is the state's own .*state\['{name}'\]"):
        setattr(state, name, [2])
    assert state.mutated_keys() == set()
    state[name].append(3)
    state[name] = [*state[name], 4]
    assert state[name] == [1, 3, 4] and state.commit() == {name}
    assert state.keys() == [name] and state.get(name) == [1, 3, 4]  # the state itself still works


# --- very deep values ---


def test_very_deep_values_are_copied_for_undo_and_detach() -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    state = SessionState({"d": deep})
    state.d.append(1)
    state.rollback()
    assert len(state.d) == 1
    state.d.append(2)
    fresh = state.detach()
    assert len(fresh.d) == 1 and len(copy.deepcopy(fresh.d)) == 1  # no RecursionError either


def test_circular_values_are_copied() -> None:
    state = SessionState({"c": [1]})
    state.c.append(state.c)  # the same key: kept, not copied (the snapshot refuses it later)
    state.commit()
    state.c.append(2)
    state.rollback()
    assert len(state.c) == 2 and len(state.c[1]) == 2 and state.c[1][1][0] == 1
