"""Per-tab session state: reads, writes, in-place mutation tracking, and rollback of a failed handler.

Each key of a state owns its value. Every tracked list or dict of a key's value reports to that
key's hook (one per key, for the life of the state); a list or dict that belongs to another key,
or to another tab's state, is copied when it is stored, so one change is never seen by two keys
(two keys holding one object would also part after a reload: a snapshot saves keys one by one).
Nested lists and dicts are wrapped lazily, when read, so a large value never touched costs nothing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from dashboards.runtime.limits import STATE_KEY_MAX_CHARS

_MISSING = object()
_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_ATOMS = frozenset({str, int, float, bool, type(None), bytes})
BeforeChange = Callable[[], None]

# Mutating methods of list and dict that store no new value: each first tells the state which key
# is about to change. Those that store values (append, update...) are written out in the classes.
_LIST_MUTATORS = ("__delitem__", "__imul__", "pop", "remove", "clear", "sort", "reverse")
_DICT_MUTATORS = ("__delitem__", "pop", "popitem", "clear")
# A set's items are hashable, so nothing inside one is wrapped: every mutating method is guarded.
_SET_MUTATORS = ("add", "discard", "remove", "pop", "clear", "update", "difference_update",
                 "intersection_update", "symmetric_difference_update", "__ior__", "__iand__", "__isub__",
                 "__ixor__")  # fmt: skip


def _is_tracked(value: Any) -> bool:
    kind = type(value)
    return kind is TrackedList or kind is TrackedDict or kind is TrackedSet


def _plain_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A deep copy in plain lists and dicts (tracked ones included), made without recursion, so a
    value nested any number of levels deep is copied; other objects go to ``copy.deepcopy``.
    """
    if memo is None:
        memo = {}
    pending: list[tuple[Any, Any]] = []  # (a list or dict, its copy still empty)

    def copy_of(item: Any) -> Any:
        kind = type(item)
        if kind in _ATOMS:
            return item
        done = memo.get(id(item), _MISSING)
        if done is not _MISSING:
            return done
        if kind is list or kind is TrackedList:
            new: Any = []
        elif kind is dict or kind is TrackedDict:
            new = {}
        elif kind is TrackedSet:
            new = memo[id(item)] = set(set.__iter__(item))  # hashable items: nothing to copy inside
            return new
        else:
            return copy.deepcopy(item, memo)
        memo[id(item)] = new
        pending.append((item, new))
        return new

    result = copy_of(value)
    while pending:
        source, new = pending.pop()
        if type(new) is list:
            new.extend([copy_of(item) for item in list.__iter__(source)])
        else:
            for key, item in dict.items(source):
                new[key] = copy_of(item)
    return result


def _holds_foreign(value: Any, hook: BeforeChange) -> bool:
    """Whether a plain list, dict or tuple holds, at any depth, a tracked list or dict of another
    key (or another state). Tracked ones of this key are not opened: they hold none.
    """
    tracked_list, tracked_dict, atoms = TrackedList, TrackedDict, _ATOMS  # locals: a hot loop
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        for child in item.values() if type(item) is dict else item:
            kind = type(child)
            if kind in atoms:
                continue
            if kind is tracked_list or kind is tracked_dict or kind is TrackedSet:
                if child._before_change is not hook:
                    return True
            elif kind is list or kind is dict or kind is tuple:
                stack.append(child)
    return False


def _owned(value: Any, hook: BeforeChange) -> Any:
    """A value about to be stored under the key of ``hook``: itself, or a plain copy when it is,
    or holds, a list or dict tracked for another key (which would otherwise see, and be credited
    with, this key's changes).
    """
    kind = type(value)
    if kind is TrackedList or kind is TrackedDict or kind is TrackedSet:
        return value if value._before_change is hook else _plain_copy(value)
    if (kind is list or kind is dict or kind is tuple) and _holds_foreign(value, hook):
        return _plain_copy(value)
    return value


def _track(value: Any, hook: BeforeChange) -> Any:
    """A value read from (or stored into) a key: plain lists and dicts wrapped (not their contents:
    those are wrapped when read); a tracked one of another key copied first.
    """
    kind = type(value)
    if kind is list:
        return TrackedList(value, hook)
    if kind is dict:
        return TrackedDict(value, hook)
    if kind is set:
        return TrackedSet(value, hook)
    if (
        kind is TrackedList or kind is TrackedDict or kind is TrackedSet
    ) and value._before_change is not hook:
        return _track(_plain_copy(value), hook)
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
    read, so a large value that is never touched costs nothing. Copies (a slice, ``copy()``,
    ``reversed()``, ``+``) are plain lists holding the same tracked items: changing an item
    inside is a change of the state, adding to the copy is not.
    """

    def __init__(self, items: Iterable[Any], before_change: BeforeChange) -> None:
        super().__init__(items)
        self._before_change = before_change

    def __getitem__(self, index: Any) -> Any:
        value = list.__getitem__(self, index)
        if isinstance(index, slice):
            positions = range(len(self))[index]
            for position, item in enumerate(value):
                kind = type(item)
                if kind is list or kind is dict or kind is set or _is_tracked(item):
                    value[position] = self[positions[position]]
            return value
        tracked = _track(value, self._before_change)
        if tracked is not value:
            list.__setitem__(self, index, tracked)
        return tracked

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self[index]

    def __reversed__(self) -> Iterator[Any]:
        for index in range(len(self) - 1, -1, -1):
            yield self[index]

    def copy(self) -> list[Any]:
        copied: list[Any] = self[:]
        return copied

    __copy__ = copy

    def __add__(self, other: Any) -> Any:
        if not isinstance(other, list):
            return NotImplemented
        return self[:] + list(other)

    def __radd__(self, other: Any) -> Any:
        if not isinstance(other, list):
            return NotImplemented
        return list(other) + self[:]

    def __mul__(self, times: Any) -> Any:
        return self[:] * times

    __rmul__ = __mul__

    # --- changes that store values: anything tracked for another key is copied in ---
    def __setitem__(self, index: Any, value: Any) -> None:
        self._before_change()
        hook = self._before_change
        if isinstance(index, slice):
            value = [_owned(item, hook) for item in value]
        else:
            value = _owned(value, hook)
        list.__setitem__(self, index, value)

    def append(self, item: Any) -> None:
        self._before_change()
        list.append(self, _owned(item, self._before_change))

    def insert(self, index: Any, item: Any) -> None:
        self._before_change()
        list.insert(self, index, _owned(item, self._before_change))

    def extend(self, items: Iterable[Any]) -> None:
        self._before_change()
        hook = self._before_change
        list.extend(self, [_owned(item, hook) for item in items])

    def __iadd__(self, items: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(items)
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return _plain_copy(self, memo)  # type: ignore[no-any-return]

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (list, (list(list.__iter__(self)),))


class TrackedDict(dict[Any, Any]):
    """A dict that reports in-place changes to its session state before they happen.

    Copies (``copy()``, ``dict(d)``, ``{**d}``, ``d | other``) are plain dicts holding the same
    tracked values, as a TrackedList's are.
    """

    def __init__(self, items: Any, before_change: BeforeChange) -> None:
        super().__init__(items)
        self._before_change = before_change

    def __getitem__(self, key: Any) -> Any:
        value = dict.__getitem__(self, key)
        tracked = _track(value, self._before_change)
        if tracked is not value:
            dict.__setitem__(self, key, tracked)
        return tracked

    def __iter__(self) -> Iterator[Any]:
        # Defined so that dict(d), {**d} and f(**d) read through keys() and __getitem__ (CPython
        # copies a dict subclass's storage directly only while it keeps dict's own __iter__).
        return dict.__iter__(self)

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def values(self) -> Any:
        return [self[key] for key in self]

    def items(self) -> Any:
        return [(key, self[key]) for key in self]

    def copy(self) -> dict[Any, Any]:
        return dict(self.items())

    __copy__ = copy

    def __or__(self, other: Any) -> Any:
        if not isinstance(other, dict):
            return NotImplemented
        new = self.copy()
        new.update(other)
        return new

    def __ror__(self, other: Any) -> Any:
        if not isinstance(other, dict):
            return NotImplemented
        new = dict(other)
        new.update(self.items())
        return new

    # --- changes that store values: anything tracked for another key is copied in ---
    def __setitem__(self, key: Any, value: Any) -> None:
        self._before_change()
        dict.__setitem__(self, key, _owned(value, self._before_change))

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._before_change()
        hook = self._before_change
        dict.update(self, {key: _owned(value, hook) for key, value in dict(*args, **kwargs).items()})

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:  # a key already there: no change
            self[key] = default
        return self[key]

    def __ior__(self, other: Any) -> TrackedDict:
        self.update(other)
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[Any, Any]:
        return _plain_copy(self, memo)  # type: ignore[no-any-return]

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (dict, (dict(dict.items(self)),))


class TrackedSet(set[Any]):
    """A set that reports in-place changes (``add``, ``discard``, ``|=``...) to its session state
    before they happen; what its operators and ``copy()`` return are plain sets."""

    def __init__(self, items: Iterable[Any], before_change: BeforeChange) -> None:
        super().__init__(items)
        self._before_change = before_change

    def __repr__(self) -> str:  # set's own names the class: a page showed "TrackedSet({'a'})"
        return set.__repr__(set(set.__iter__(self)))

    def __deepcopy__(self, memo: dict[int, Any]) -> set[Any]:
        return _plain_copy(self, memo)  # type: ignore[no-any-return]

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (set, (list(set.__iter__(self)),))


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
for _name in _SET_MUTATORS:
    setattr(TrackedSet, _name, _guarded(_name, set))


class _KeyHook:
    """What every tracked list and dict of one key's value calls before it changes."""

    __slots__ = ("key", "state")

    def __init__(self, state: SessionState, key: str) -> None:
        self.state = state
        self.key = key

    def __call__(self) -> None:
        self.state._before_change(self.key)


class SessionState:
    """The state of one browser tab, as handlers see it: ``state["k"]`` or ``state.k``.

    A missing key reads ``None``. Assignments and in-place changes of lists and dicts mark their
    key as mutated; after a handler, only mutated keys are rendered again. A handler that raises
    is rolled back: every key it changed gets its earlier value back.

    Undo: an assignment or a deletion keeps the key's earlier value itself (no copy); should that
    object then change in place (the handler kept it, or put parts of it in the new value), the
    first change copies it before it happens. An in-place change copies the value before it.
    Names of this class's own attributes (``values``, ``get``, ``commit``...) cannot be assigned
    as ``state.name = ...``: ``state.name`` would still read the method; ``state["name"]`` works.
    """

    __slots__ = ("_between_runs", "_closed", "_commands", "_hooks", "_originals", "_uncopied", "_values")
    _closed: bool
    _between_runs: bool  # set by the session between its runs of app code (see close_between_runs)
    _values: dict[str, Any]
    _originals: dict[str, Any]
    _uncopied: set[str]  # keys whose original is the replaced object itself, not yet copied
    _hooks: dict[str, _KeyHook]
    _commands: list[Any]

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_closed", False)
        object.__setattr__(self, "_between_runs", False)
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_originals", {})
        object.__setattr__(self, "_uncopied", set())
        object.__setattr__(self, "_hooks", {})
        object.__setattr__(self, "_commands", [])
        for key, value in (values or {}).items():
            self._values[key] = _track(value, self._hook(key))

    # --- the handler's view ---
    def __getitem__(self, key: str) -> Any:
        return self._values.get(key)

    def __setitem__(self, key: str, value: Any) -> None:
        check_state_key(key)
        if key not in self._originals:
            self._remember(key)
        if isinstance(value, list | dict | tuple | set):
            hook = self._hook(key)
            value = _track(_owned(value, hook), hook)
        self._values[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self._originals:
            self._remember(key)
        self._values.pop(key, None)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return self[key]

    def __setattr__(self, key: str, value: Any) -> None:
        if key in _OWN_ATTRIBUTES:
            raise AttributeError(
                f"state.{key} is the state's own {key!r}, not a state key: "
                f"write state[{key!r}] = ... (and read state[{key!r}])"
            )
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
    def _hook(self, key: str) -> _KeyHook:
        hook = self._hooks.get(key)
        if hook is None:
            hook = self._hooks[key] = _KeyHook(self, key)
        return hook

    def _remember(self, key: str) -> None:
        """Before an assignment or deletion: keep the key's value from before this handler, once."""
        if self._closed or self._between_runs:
            self._refuse_write()
        current = self._values.get(key, _MISSING)
        self._originals[key] = current
        if isinstance(current, TrackedList | TrackedDict | TrackedSet):
            self._uncopied.add(key)  # the object itself: copied should it change (_before_change)

    def _before_change(self, key: str) -> None:
        """Before an in-place change of (what was, or is) a key's value: keep a copy to undo it."""
        if self._closed or self._between_runs:
            self._refuse_write()
        if key in self._originals:
            if key in self._uncopied:  # the replaced object, about to change: copy it first
                self._uncopied.discard(key)
                self._originals[key] = _plain_copy(self._originals[key])
            return
        current = self._values.get(key, _MISSING)
        self._originals[key] = current if current is _MISSING else _plain_copy(current)

    def _refuse_write(self) -> None:
        if self._closed:
            raise RuntimeError("this handler ran out of time: its state is no longer the session's")
        raise RuntimeError(
            "a tab's state changes only while one of its handlers runs: not from a thread the "
            "handler left running, nor from another tab's code holding on to it"
        )

    def close_between_runs(self) -> None:
        """No write until the session runs app code for this tab again (``open_for_run``).

        A write between runs would otherwise land unseen, and be sent, kept or undone with the
        tab's next, unrelated event. Code running *while* this tab's handler runs (another tab's
        handler, on another thread) cannot be told apart, so one tab's state must never be
        kept where other tabs' code can reach it (a module global).
        """
        object.__setattr__(self, "_between_runs", True)

    def open_for_run(self) -> None:
        object.__setattr__(self, "_between_runs", False)

    def mutated_keys(self) -> set[str]:
        return set(self._originals)

    def commit(self) -> set[str]:
        """End a handler's changes; return the keys it mutated."""
        mutated = set(self._originals)
        self._originals.clear()
        self._uncopied.clear()
        return mutated

    def rollback(self) -> None:
        """Undo every change since the last commit, and drop the commands queued meanwhile."""
        for key, original in self._originals.items():
            if original is _MISSING:
                self._values.pop(key, None)
            else:
                self._values[key] = _track(original, self._hook(key))
        self._originals.clear()
        self._uncopied.clear()
        self._commands.clear()

    def values(self) -> dict[str, Any]:
        return self._values

    def detach(self) -> SessionState:
        """After a timeout: roll back, refuse further writes here, and give the session a copy.

        The timed-out handler's thread may still run and hold this object; the copy shares no
        value with it.
        """
        self.rollback()
        fresh = SessionState(_plain_copy(self._values))
        object.__setattr__(self, "_closed", True)
        return fresh

    def queue_command(self, command: dict[str, Any]) -> None:
        if self._closed or self._between_runs:  # a toast from a leftover thread: refused as writes are
            self._refuse_write()
        self._commands.append(command)

    def pending_commands(self) -> list[dict[str, Any]]:
        """The commands queued since the last take (the frame is built before the run is kept)."""
        return list(self._commands)

    def take_commands(self) -> list[dict[str, Any]]:
        commands = list(self._commands)
        self._commands.clear()
        return commands


# ``state.values = ...`` would store a key that ``state.values`` never reads back: refused.
_OWN_ATTRIBUTES = frozenset(name for name in dir(SessionState) if not name.startswith("__"))
