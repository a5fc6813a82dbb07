"""Compiles an app's page template once per release and renders it whole or component by component."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.template import Context, TemplateSyntaxError
from django.template.base import NodeList, Template

from dashboards.runtime.components import LENIENT_FLAG, OOB_FLAG, REASONS_FLAG, ComponentNode, RepeatNode
from dashboards.runtime.page_engine import PAGE_ENGINE, WITHHELD_WHY, syntax_error_line
from dashboards.runtime.render_deadline import RenderTooSlow

RENDER_CACHE_ENTRIES = 512
RENDER_CACHE_VALUE_BYTES = 2048
CACHED_TYPES = frozenset({str, int, float, bool, type(None)})  # their JSON text tells them apart


class PageError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


class RenderError(Exception):
    """A component that cannot show the state it reads (a table given a number, say).

    The state may come from the browser (a handler storing a payload as it is): the session
    undoes the change and shows a toast, as for bad input; never an internal error (1011).
    ``__cause__`` is the original exception.
    """

    def __init__(self, component_id: str, error: BaseException) -> None:
        self.component_id = component_id
        super().__init__(f"component {component_id!r} cannot show its state: {type(error).__name__}: {error}")


@dataclass
class Page:
    template: Template
    components: dict[str, ComponentNode]  # top-level (swappable) components by id
    readers: dict[str, list[str]]  # state key -> ids of the components that read it
    nested: dict[str, RepeatNode] = field(default_factory=dict)  # component id inside a repeater -> it
    has_chart: bool = False
    keys_read: dict[str, tuple[str, ...]] = field(default_factory=dict)  # component id -> its state keys
    # (component id, its keys' encoded values) -> its fragment: one event setting the same value in
    # a thousand tabs renders it once. Small values only; cleared when full.
    rendered: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict, repr=False)
    source_chars: int = 0  # its literals are input to its filters, as state is (render_deadline.py)

    def render(
        self, values: dict[str, Any], extra: dict[str, Any] | None = None, *, reasons: bool = True
    ) -> str:
        """The whole page; a component that cannot show its value says so (``LENIENT_FLAG``), and
        why unless ``reasons`` is off (a tab opened through a shared link)."""
        flags = {LENIENT_FLAG: True, REASONS_FLAG: reasons}
        return self.template.render(Context({**values, **(extra or {}), **flags}, autoescape=True))

    def components_reading(self, keys: set[str]) -> list[str]:
        seen: dict[str, None] = {}
        for key in keys:
            for component_id in self.readers.get(key, ()):
                seen[component_id] = None
        return list(seen)

    def render_components(
        self,
        component_ids: list[str],
        values: dict[str, Any],
        encoded: dict[str, str] | None = None,
        *,
        lenient: bool = False,
        reasons: bool = True,
    ) -> str:
        """The out-of-band fragments of these components, concatenated into one message.

        ``encoded``: the state codec's text of keys just changed. A component that reads only
        those keys is a function of that text, so its fragment is looked up before it is rendered.
        Raises RenderError naming the first component that cannot show its state, unless
        ``lenient`` (a tab reconnecting: it opens, the component showing why, or only that it
        cannot when ``reasons`` is off); RenderTooSlow
        past the time limit of ``render_deadline`` (whatever ``lenient`` says).
        """
        context: Context | None = None
        parts = []
        for component_id in component_ids:
            cache_key = self._cache_key(component_id, values, encoded) if encoded else None
            fragment = self.rendered.get(cache_key) if cache_key is not None else None
            if fragment is None:
                if context is None:
                    context = Context(values, autoescape=True)
                    context.template = self.template
                    context.push({OOB_FLAG: True, LENIENT_FLAG: lenient, REASONS_FLAG: reasons})
                try:
                    fragment = self.components[component_id].render(context)
                except RenderTooSlow:
                    raise
                except Exception as error:  # RecursionError too: a value nested too deeply to show
                    raise RenderError(component_id, error) from error
                if cache_key is not None:
                    if len(self.rendered) >= RENDER_CACHE_ENTRIES:
                        self.rendered.clear()
                    self.rendered[cache_key] = fragment
            parts.append(fragment)
        return "".join(parts)

    def _cache_key(
        self, component_id: str, values: dict[str, Any], encoded: dict[str, str]
    ) -> tuple[str, tuple[str, ...]] | None:
        keys = self.keys_read.get(component_id)
        if not keys:
            return None
        texts = []
        size = 0
        for key in keys:
            text = encoded.get(key)
            if text is None or type(values.get(key)) not in CACHED_TYPES:
                return None  # reads a key not at hand, or a value whose text may not tell its type
            size += len(text)
            texts.append(text)
        return (component_id, tuple(texts)) if size <= RENDER_CACHE_VALUE_BYTES else None

    def component_kind(self, dom_id: str) -> str | None:
        node = self.components.get(dom_id) or self.components.get(dom_id.rsplit("-", 1)[0])
        return node.kind if node else None

    def repeat_value(self, target: str, key: str, values: dict[str, Any]) -> Any:
        """The item a repeated component stands for; None for a key the repeater does not show.

        The target is ``<component id>-<key>`` (the key may hold dashes: a dict's keys), and a
        list's keys are the indices as the repeater wrote them: "-1", "01" or " 1" name no item.
        Raises what the repeater's collection raises on this state (a filter failing on it).
        """
        if not target.endswith("-" + key):
            return None
        repeat = self.nested.get(target[: -len(key) - 1])
        if repeat is None:
            return None
        collection = repeat.args[0].resolve(Context(values))
        if isinstance(collection, dict):
            if key in collection:
                return collection[key]
            # Keys that are not strings ({1: "one"}) were written as str(key): the first such entry.
            return next((value for name, value in collection.items() if str(name) == key), None)
        if isinstance(collection, Sequence) and key.isascii() and key.isdigit() and str(int(key)) == key:
            index = int(key)  # what enumerate() gave the repeater: no sign, no blanks, no zeros in front
            return collection[index] if index < len(collection) else None
        return None


def compile_page(source: str) -> Page:
    try:
        template = PAGE_ENGINE.from_string(source)
    except TemplateSyntaxError as error:
        info = getattr(error, "template_debug", None)
        line = info.get("line") if info else syntax_error_line(source)
        withheld = re.search(r"Invalid block tag on line \d+: '(\w+)'", str(error))
        if withheld and withheld[1] in WITHHELD_WHY:
            raise PageError(f"page: {{% {withheld[1]} %}} is not available in a page: "
                            f"{WITHHELD_WHY[withheld[1]]}.", line) from None  # fmt: skip
        # Django's hint names {% load %}, which pages cannot use: what tags there are is the help.
        message = str(error).replace(
            "Did you forget to register or load this tag?", "A page has the components of docs/sdk.md and "
            "Django's built-in tags."
        )  # fmt: skip
        raise PageError(f"page: {message}", line) from None
    nodes = _components_in(template.nodelist)
    components: dict[str, ComponentNode] = {}
    readers: dict[str, list[str]] = {}
    nested: dict[str, RepeatNode] = {}
    seen: set[str] = set()
    for counter, node in enumerate(nodes, 1):  # document order: automatic ids are stable per release
        node.component_id = node.literal("id") or f"c{counter}"
        if node.component_id in seen:
            raise PageError(f"page: two components have the id {node.component_id!r}")
        seen.add(node.component_id)
    for repeat in [n for n in nodes if isinstance(n, RepeatNode)]:
        for inner in _components_in(repeat.nodelist):
            nested[inner.component_id] = repeat
    keys_read: dict[str, tuple[str, ...]] = {}
    for node in nodes:
        if node.component_id in nested:
            continue
        components[node.component_id] = node
        keys_read[node.component_id] = tuple(sorted(node.state_keys()))
        for key in keys_read[node.component_id]:
            readers.setdefault(key, []).append(node.component_id)
    return Page(
        template=template,
        components=components,
        readers=readers,
        nested=nested,
        has_chart=any(n.kind == "chart" for n in nodes),
        keys_read=keys_read,
        source_chars=len(source),
    )


def _components_in(nodelist: NodeList) -> list[ComponentNode]:
    return [node for node in nodelist.get_nodes_by_type(ComponentNode) if isinstance(node, ComponentNode)]
