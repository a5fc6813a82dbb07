"""The state codec's tags: values of the app's own come back as they were kept, never as what their
members spell; text the codec never writes is refused with Undecodable, never half-read."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

import pytest

from dashboards.runtime import codecs
from dashboards.runtime.state import SessionState, TrackedDict, TrackedList


def _round_trip(value: object) -> object:
    return codecs.decode(codecs.encode(value))


@pytest.mark.parametrize(
    "payload",
    [
        {"__codec__": "nothing-here"},
        {"__codec__": "decimal", "value": "not a number"},
        {"__codec__": "datetime", "value": "2020-01-01T00:00:00"},
        {"__codec__": "set", "value": [1, 2]},
        {"__codec__": {"__codec__": "date", "value": "2020-01-01"}, "value": [{"__codec__": 1}]},
        {"__codec__": None, "a": 1},
    ],
)
def test_a_dict_holding_the_tag_key_comes_back_as_the_same_dict(payload) -> None:
    """A browser's payload kept as it came (state.data = payload) is the app's data, not a codec's."""
    back = _round_trip({"kept": [payload]})
    assert back == {"kept": [payload]}
    assert list(back["kept"][0]) == list(payload)  # in the same order


def test_a_tracked_dict_holding_the_tag_key_is_escaped_without_being_wrapped() -> None:
    changes: list[int] = []
    value = TrackedDict({"__codec__": "x", "rows": [{"a": 1}]}, lambda: changes.append(1))
    assert _round_trip(TrackedList([value], lambda: None)) == [{"__codec__": "x", "rows": [{"a": 1}]}]
    assert changes == [] and type(dict.__getitem__(value, "rows")) is list  # nothing read through the tracker


def test_sets_of_tuples_and_frozensets_come_back_as_themselves() -> None:
    for value in (
        {(1, 2), (3, 4)},
        {(1, (2, "x")), frozenset({1, 2}), ("d", date(2020, 1, 2))},
        frozenset({(1,)}),
    ):
        back = _round_trip({"s": value})
        assert back == {"s": value}
        assert all(
            type(a) is type(b)
            for a, b in zip(sorted(back["s"], key=repr), sorted(value, key=repr), strict=True)
        )


def test_keys_that_are_not_strings_come_back_with_their_types() -> None:
    value = {1: "one", 2.5: [{None: True, True: {(1, 2): "pair"}}], "s": "str"}
    back = _round_trip(value)
    assert back == value and list(back) == [1, 2.5, "s"]
    assert _round_trip({"1": "one"}) == {"1": "one"}  # a string that looks like a number stays a string


def test_tuples_elsewhere_come_back_as_lists_as_in_json() -> None:
    assert _round_trip({"t": (1, (2, 3))}) == {"t": [1, [2, 3]]}


def test_what_cannot_come_back_hashable_is_refused_when_kept() -> None:
    class Thing:
        def __hash__(self) -> int:
            return 1

    for value in ({Thing()}, {Thing(): 1}, {(1, Thing())}):
        with pytest.raises(codecs.NotSerialisable, match="set's item or a dict's key"):
            codecs.encode(value)


def test_plain_values_encode_as_plain_json() -> None:
    """The hot path: nothing tagged, nothing copied, the JSON as before."""
    assert codecs.encode(1) == "1"
    assert codecs.encode({"a": [1, {"b": None}], "c": "d"}) == '{"a":[1,{"b":null}],"c":"d"}'
    rows = [{"id": 1, "tags": ["x"]}]
    assert codecs._escape(rows) is rows


def test_richer_values_still_come_back() -> None:
    value = {"when": datetime(2026, 1, 2, 3, 4), "day": date(2026, 1, 2), "amount": Decimal("1.10"),
             "set": {1, "a"}, "gap": math.inf}  # fmt: skip
    assert _round_trip(value) == value


@pytest.mark.parametrize(
    "text",
    [
        '{"__codec__":"nothing-here"}',
        '{"__codec__":"decimal","value":"not a number"}',
        '{"__codec__":"decimal","value":1}',
        '{"__codec__":"datetime","value":"yesterday"}',
        '{"__codec__":"datetime","value":"2020-01-01","extra":1}',
        '{"__codec__":"set","value":[[1,2]]}',
        '{"__codec__":"dict","value":[[1,2,3]]}',
        '{"__codec__":"dict","value":[[[1],2]]}',
        '{"__codec__":["set"],"value":[]}',
        '{"a":{"__codec__":"float","value":"many"}}',
        "not json",
        b"\xff\xfe",
        "[" * 100_000,
    ],
)
def test_text_the_codec_never_writes_is_undecodable(text) -> None:
    with pytest.raises(codecs.Undecodable):
        codecs.decode(text)


def test_state_keeps_a_payload_that_spells_a_codec() -> None:
    """As a handler does it: assigned, then encoded for the snapshot."""
    state = SessionState({"data": None})
    state.data = {"__codec__": "decimal", "value": "not a number"}
    assert codecs.decode(codecs.encode(state.values()["data"])) == {
        "__codec__": "decimal",
        "value": "not a number",
    }


class NotATime(datetime):
    """What pandas' NaT is: a datetime whose isoformat() is "NaT", which no parser reads back."""

    def isoformat(self, *args: object, **kwargs: object) -> str:
        return "NaT"


def test_a_missing_time_is_kept_as_none_as_a_missing_number_is() -> None:
    missing = NotATime(2020, 1, 1)
    assert _round_trip({"when": [missing, datetime(2020, 1, 2)]}) == {"when": [None, datetime(2020, 1, 2)]}
