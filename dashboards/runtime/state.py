"""Per-tab session state: reads, writes, in-place mutation tracking, and rollback of a failed handler."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from dashboards.runtime.limits import STATE_KEY_MAX_CHARS

_MISSING = object()
_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")
BeforeChange = Callable[[], None]

# Mutating methods of list and dict: each one first tells the state which key is about to change.
_LIST_MUTATORS = (
    "__setitem__", "__delitem__", "__iadd__", "__imul__",
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
)  # fmt: skip
_DICT_MUTATORS = ("__setitem__", "__delitem__", "__ior__", "update", "pop", "popitem", "setdefault", "clear")


def _track(value: Any, before_change: BeforeChange) -> Any:
    """Wrap a plain list or dict (not its contents: those are wrapped lazily when read)."""
    if type(value) is list:
        return TrackedList(value, before_change)
    if type(value) is dict:
        return TrackedDict(value, before_change)
    if isinstance(value, TrackedList | TrackedDict):
        value._before_change = before_change
    return value


def _guarded(name: str, base: type) -> Callable[..., Any]:
    original = getattr(base, name)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._before_change()
        return original(self, *args, **kwargs)

    method.__name__ = name
    return method


class TrackedList(list[Any]):
    """A list that reports in-place changes to its session state before they happen.

    Plain ``list`` methods cost one extra call each; nested lists and dicts are wrapped only when
    read, so a large value that is never touched costs nothing.
    """

    def __init__(self, items: Iterable[Any], before_change: BeforeChange) -> None:
        super().__init__(items)
        self._before_change = before_change

    def __getitem__(self, index: Any) -> Any:
        value = list.__getitem__(self, index)
        if isinstance(index, slice):
            return value
        tracked = _track(value, self._before_change)
        if tracked is not value:
            list.__setitem__(self, index, tracked)
        return tracked

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self[index]

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [copy.deepcopy(item, memo) for item in list.__iter__(self)]

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (list, (list(list.__iter__(self)),))


class TrackedDict(dict[Any, Any]):
    """A dict that reports in-place changes to its session state before they happen."""

    def __init__(self, items: Any, before_change: BeforeChange) -> None:
        super().__init__(items)
        self._before_change = before_change

    def __getitem__(self, key: Any) -> Any:
        value = dict.__getitem__(self, key)
        tracked = _track(value, self._before_change)
        if tracked is not value:
            dict.__setitem__(self, key, tracked)
        return tracked

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def values(self) -> Any:
        return [self[key] for key in self]

    def items(self) -> Any:
        return [(key, self[key]) for key in self]

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[Any, Any]:
        return {key: copy.deepcopy(value, memo) for key, value in dict.items(self)}

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (dict, (dict(dict.items(self)),))


def check_state_key(key: object) -> str:
    """The key, or a TypeError/ValueError for the app's author: a key is a snapshot hash's field,
    so it must be UTF-8 text; keys starting with ``__`` are the platform's (the release's field).
    Refused when assigned, so one bad key never costs a tab (or the tabs saved with it) its snapshot.
    """
    if not isinstance(key, str):
        raise TypeError(f"state keys are strings, not {type(key).__name__}")
    if key.startswith("__"):
        raise ValueError(f"state key {key[:40]!r}: keys starting with '__' are the platform's")
    if len(key) > STATE_KEY_MAX_CHARS:
        raise ValueError(f"state key {key[:40]!r}...: at most {STATE_KEY_MAX_CHARS} characters")
    if _UNSTORABLE_CHARACTER.search(key):
        raise ValueError(f"state key {key[:40]!r} holds a NUL or an unpaired surrogate, which is not text")
    return key


for _name in _LIST_MUTATORS:
    setattr(TrackedList, _name, _guarded(_name, list))
for _name in _DICT_MUTATORS:
    setattr(TrackedDict, _name, _guarded(_name, dict))


class SessionState:
    """The state of one browser tab, as handlers see it: ``state["k"]`` or ``state.k``.

    A missing key reads ``None``. Assignments and in-place changes of lists and dicts mark their
    key as mutated; after a handler, only mutated keys are rendered again. A handler that raises
    is rolled back: every key it changed gets its earlier value back.
    """

    __slots__ = ("_closed", "_commands", "_originals", "_values")
    _closed: bool
    _values: dict[str, Any]
    _originals: dict[str, Any]
    _commands: list[Any]

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_closed", False)
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_originals", {})
        object.__setattr__(self, "_commands", [])
        for key, value in (values or {}).items():
            self._values[key] = _track(value, self._before_change_of(key))

    # --- the handler's view ---
    def __getitem__(self, key: str) -> Any:
        return self._values.get(key)

    def __setitem__(self, key: str, value: Any) -> None:
        check_state_key(key)
        self._remember(key, copy_value=False)
        self._values[key] = _track(value, self._before_change_of(key))

    def __delitem__(self, key: str) -> None:
        self._remember(key, copy_value=False)
        self._values.pop(key, None)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return self[key]

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def keys(self) -> list[str]:
        return list(self._values)

    def __repr__(self) -> str:
        return f"SessionState({sorted(self._values)})"

    # --- the runtime's view ---
    def _before_change_of(self, key: str) -> BeforeChange:
        return lambda: self._remember(key, copy_value=True)

    def _remember(self, key: str, *, copy_value: bool) -> None:
        """Keep a key's value from before this handler, once, so the handler can be undone."""
        if self._closed:
            raise RuntimeError("this handler ran out of time: its state is no longer the session's")
        if key in self._originals:
            return
        current = self._values.get(key, _MISSING)
        # An assignment replaces the object (the old one stays intact); an in-place change does not.
        self._originals[key] = copy.deepcopy(current) if copy_value and current is not _MISSING else current

    def mutated_keys(self) -> set[str]:
        return set(self._originals)

    def commit(self) -> set[str]:
        """End a handler's changes; return the keys it mutated."""
        mutated = set(self._originals)
        self._originals.clear()
        return mutated

    def rollback(self) -> None:
        """Undo every change since the last commit, and drop the commands queued meanwhile."""
        for key, original in self._originals.items():
            if original is _MISSING:
                self._values.pop(key, None)
            else:
                self._values[key] = _track(original, self._before_change_of(key))
        self._originals.clear()
        self._commands.clear()

    def values(self) -> dict[str, Any]:
        return self._values

    def detach(self) -> SessionState:
        """After a timeout: roll back, refuse further writes here, and give the session a copy.

        The timed-out handler's thread may still run and hold this object; the copy shares no
        value with it.
        """
        self.rollback()
        fresh = SessionState(copy.deepcopy(self._values))
        object.__setattr__(self, "_closed", True)
        return fresh

    def queue_command(self, command: dict[str, Any]) -> None:
        self._commands.append(command)

    def take_commands(self) -> list[dict[str, Any]]:
        commands = list(self._commands)
        self._commands.clear()
        return commands
