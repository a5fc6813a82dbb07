"""Which arguments a handler asks for, decided once per handler from its parameter names."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Writer Framework's names, and PyWry's (data, event_type, label) form.
INJECTABLE = frozenset({"state", "payload", "context", "session"})
PYWRY_NAMES = {"data": "payload", "event_type": "event", "label": "target"}


class InjectionError(ValueError):
    """A handler parameter the runtime cannot fill in."""


@dataclass(frozen=True)
class HandlerSignature:
    name: str
    parameters: tuple[str, ...]
    is_async: bool

    def arguments(self, available: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments for one call, from everything the runtime has about the event."""
        result = {}
        for parameter in self.parameters:
            source = PYWRY_NAMES.get(parameter, parameter)
            result[parameter] = available.get(source)
        return result


def handler_signature(name: str, function: Callable[..., Any]) -> HandlerSignature:
    """Inspect a handler; raise InjectionError naming the parameter that cannot be injected."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as error:
        raise InjectionError(f"handler {name!r}: cannot read its signature ({error})") from None
    names: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise InjectionError(
                f"handler {name!r}: *args and **kwargs cannot be injected; name the arguments"
            )
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise InjectionError(f"handler {name!r}: positional-only parameter {parameter.name!r}")
        if parameter.name in INJECTABLE or parameter.name in PYWRY_NAMES:
            names.append(parameter.name)
        elif parameter.default is inspect.Parameter.empty:
            allowed = ", ".join(sorted(INJECTABLE | set(PYWRY_NAMES)))
            raise InjectionError(
                f"handler {name!r}: parameter {parameter.name!r} cannot be injected (allowed: {allowed})"
            )
    return HandlerSignature(
        name=name, parameters=tuple(names), is_async=inspect.iscoroutinefunction(function)
    )
