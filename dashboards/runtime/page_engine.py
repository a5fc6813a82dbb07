"""The template engine of app pages: Django's language, minus what lets a page reach or stall the server.

A page is app code: it renders on the web process's event loop, for every tab of the app. So it
gets an engine of its own, with autoescaping on, the components built in and no loader (``{% include
%}`` and ``{% extends %}`` reach no template of the platform's, ``{% load %}`` no other library);
without the built-in tags no page needs that stall or expose the server; with the filters
that pad or round to a width refusing widths no page needs, since a width can come from state;
and with ``{% for %}`` checking the render's time limit at each item (render_deadline.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.template import Engine, Library
from django.template.base import Parser, Token
from django.template.defaulttags import ForNode

from dashboards.runtime.render_deadline import CheckedSequence

# `{% lorem 99999999 %}` builds text on the event loop; `{% debug %}` prints the render context
# and the server's imported modules. A page is one template: `{% include %}` and `{% extends %}`
# name files there are none of, and `{% load %}` libraries it has none of (they failed at
# render, "TemplateDoesNotExist", or with an empty list of libraries to choose from).
WITHHELD_TAGS = frozenset({"lorem", "debug", "include", "extends", "load"})
# What the validation report says of them: why they are not there.
WITHHELD_WHY = {
    "include": "a page is one template, with no other files to include",
    "extends": "a page is one template, with no other files to extend",
    "load": "a page has no tag libraries to load: the components of docs/sdk.md and Django's built-in "
    "tags are there without it",
}
# `{{ x|ljust:n }}` with n = 10**9 allocates a gigabyte on the event loop; so do a precision of
# `floatformat` and a width of `stringformat` ("%0999999999d"). Past this, the filter raises (the
# component cannot show its value: the change is undone, or the page answers 503 with the reason).
FILTER_WIDTH_MAX = 1000
_NUMBERS = re.compile(r"\d+")


class FilterWidthError(ValueError):
    pass


def _widest(argument: Any) -> int:
    return max((int(digits) for digits in _NUMBERS.findall(str(argument)[:100])), default=0)


def _bounded(filter_function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(filter_function)  # keeps is_safe and the other flags Django reads
    def bounded(value: Any, argument: Any = None) -> Any:
        if argument is not None and _widest(argument) > FILTER_WIDTH_MAX:
            raise FilterWidthError(
                f"{filter_function.__name__}: widths and precisions above {FILTER_WIDTH_MAX} are refused"
            )
        return filter_function(value) if argument is None else filter_function(value, argument)

    return bounded


_BOUNDED_FILTERS = frozenset({"ljust", "rjust", "center", "floatformat", "stringformat"})


class _CheckedExpression:
    """The sequence of a ``{% for %}``, resolved as Django would, then iterated under the deadline."""

    def __init__(self, expression: Any) -> None:
        self.expression = expression

    def resolve(self, context: Any, ignore_failures: bool = False) -> Any:
        values = self.expression.resolve(context, ignore_failures=ignore_failures)
        return None if values is None else CheckedSequence(values)

    def __str__(self) -> str:
        return str(self.expression)


def _checked_loop(compile_for: Callable[[Parser, Token], ForNode]) -> Callable[[Parser, Token], ForNode]:
    @functools.wraps(compile_for)
    def compile_checked_for(parser: Parser, token: Token) -> ForNode:
        node = compile_for(parser, token)
        node.sequence = _CheckedExpression(node.sequence)  # type: ignore[assignment]  # duck-typed
        return node

    return compile_checked_for


def _for_pages(library: Library) -> Library:
    if not (
        WITHHELD_TAGS & library.tags.keys()
        or _BOUNDED_FILTERS & library.filters.keys()
        or "for" in library.tags
    ):
        return library
    kept = Library()
    kept.tags = {
        name: _checked_loop(tag) if name == "for" else tag
        for name, tag in library.tags.items()
        if name not in WITHHELD_TAGS
    }
    kept.filters = {
        name: _bounded(function) if name in _BOUNDED_FILTERS else function
        for name, function in library.filters.items()
    }
    return kept


def _page_engine(*, debug: bool) -> Engine:
    engine = Engine(
        dirs=[],
        app_dirs=False,
        loaders=[("django.template.loaders.locmem.Loader", {})],
        builtins=["dashboards.runtime.components"],
        autoescape=True,
        debug=debug,
        string_if_invalid="",
    )
    engine.template_builtins = [_for_pages(library) for library in engine.template_builtins]
    return engine


PAGE_ENGINE = _page_engine(debug=False)


@functools.cache
def _debug_twin() -> Engine:
    return _page_engine(debug=True)


def syntax_error_line(source: str) -> int | None:
    """The line of a page's syntax error. Only an engine in debug mode records where each tag
    stands, at a cost every compile would pay: asked of a twin that has one, once a page failed."""
    try:
        _debug_twin().from_string(source)
    except Exception as error:
        info = getattr(error, "template_debug", None)
        return info.get("line") if info else None
    return None
