"""The page's components, as Django template tags bound to state keys.

Every component renders one element with a stable id; after a handler, only components that read
a mutated key are rendered again and swapped out-of-band. Values are escaped on the way into
HTML (``format_html``); markdown is rendered and then sanitised by nh3.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable
from typing import Any, cast

import nh3
from django import template
from django.template.base import FilterExpression, Node, NodeList, Parser, Token, Variable
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeData, SafeString, mark_safe
from markdown_it import MarkdownIt

from dashboards.runtime.protocol import PLOTLY_CLICK, PLOTLY_SELECTED, UI_CHANGE, UI_CLICK
from dashboards.runtime.render_deadline import RenderTooSlow, check_render_deadline

logger = logging.getLogger(__name__)
register = template.Library()
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
REPEAT_KEY = "__repeat_key__"
OOB_FLAG = "__oob__"
LENIENT_FLAG = "__lenient__"  # a whole page: a component that cannot show its value shows why
# Whether it says why (the exception's words): not on a tab opened through a shared link.
REASONS_FLAG = "__reasons__"
_SURROGATE = re.compile("[\ud800-\udfff]")
ERROR_CHARS = 200  # of the reason a component shows when it cannot show its value


class ComponentValueError(ValueError):
    """A state value a component cannot show; the message says what it takes, for the app's author."""


def plain(value: Any) -> Any:
    """A state value as data: a "safe" string (``mark_safe``, ``format_html``) is escaped like any other.

    The template's own literals stay as written; what comes from state is never trusted as HTML,
    whether it is rendered now or after a reload (Redis keeps no "safe" mark).
    """
    return str.__str__(value) if isinstance(value, SafeData) and isinstance(value, str) else value


class ComponentNode(Node):
    """A component: positional and keyword arguments are template expressions."""

    kind = "component"
    element = "div"  # the element it renders: "span" for a component that sits inside text
    child_nodelists: tuple[str, ...] = ()

    def __init__(self, args: list[FilterExpression], kwargs: dict[str, FilterExpression]) -> None:
        self.args = args
        self.kwargs = kwargs
        self.component_id = ""  # assigned when the page is compiled

    # --- what it reads ---
    def expressions(self) -> Iterable[FilterExpression]:
        yield from self.args
        yield from self.kwargs.values()

    def state_keys(self) -> set[str]:
        keys = set()
        for expression in self.expressions():
            for variable in [expression.var, *(arg for _, args in expression.filters for _, arg in args)]:
                if isinstance(variable, Variable) and variable.lookups:
                    keys.add(variable.lookups[0])
        return keys

    def arg(self, context: template.Context, index: int, default: Any = None) -> Any:
        return _resolve(self.args[index], context) if len(self.args) > index else default

    def kwarg(self, context: template.Context, name: str, default: Any = None) -> Any:
        expression = self.kwargs.get(name)
        return _resolve(expression, context) if expression is not None else default

    def literal(self, name: str) -> str | None:
        """A keyword argument that must be a constant (handler names, ids): never from state."""
        expression = self.kwargs.get(name)
        if expression is None:
            return None
        if isinstance(expression.var, Variable) or expression.filters:
            raise template.TemplateSyntaxError(f"{self.kind}: {name}= takes a quoted string")
        return str(expression.var)

    # --- how it renders ---
    def dom_id(self, context: template.Context) -> str:
        key = context.get(REPEAT_KEY)
        return self.component_id if key is None else f"{self.component_id}-{key}"

    def render(self, context: template.Context) -> SafeString:
        """The component's element. A value it cannot show raises (the session then undoes the
        change that stored it), except in a whole-page render (``LENIENT_FLAG``), where the page
        loads with the reason shown in the element, which keeps its id for later swaps.
        """
        classes = f"dc dc-{self.kind}"
        check_render_deadline()
        try:
            attributes, inner = self.render_parts(context)
        except RenderTooSlow:
            raise  # the whole render is abandoned (and may start again off the event loop)
        except Exception as error:  # any value of the app's state may reach here
            if not context.get(LENIENT_FLAG):
                raise
            logger.warning("component %s (%s) cannot show its value: %s", self.dom_id(context), self.kind,
                           _reason(error))  # fmt: skip
            classes += " dc-broken"
            attributes = ""
            said = format_html(": {}", _reason(error)) if context.get(REASONS_FLAG, True) else "."
            inner = format_html(
                '<span class="dc-error" role="alert">This {} cannot show its value{}</span>',
                self.kind.replace("_", " "),
                said,
            )
        swap = ' hx-swap-oob="true"' if context.get(OOB_FLAG) else ""
        template_ = f'<{self.element} id="{{}}" class="{{}}"{{}}{swap}>{{}}</{self.element}>'
        return sendable(format_html(template_, self.dom_id(context), classes, attributes, inner))

    def render_inner(self, context: template.Context) -> SafeString:
        raise NotImplementedError

    def render_parts(self, context: template.Context) -> tuple[SafeString | str, SafeString]:
        """More attributes of the component's own element (escaped; a metric's ``data-announce``),
        and what it holds. Most components add no attributes."""
        return "", self.render_inner(context)

    def label(self, context: template.Context) -> SafeString:
        """The words naming a control: ``label=`` as written; without it the state key's name
        ("unit_price": "Unit price"), for screen readers only, so no control is announced without
        a name ("edit text", "combo box")."""
        words = self.kwarg(context, "label")
        if words not in (None, ""):
            return format_html("{}", words)
        variable = self.args[0].var if self.args else None
        key = " ".join(variable.lookups) if isinstance(variable, Variable) and variable.lookups else self.kind
        name = key.replace("_", " ").strip().capitalize()
        return format_html('<span class="visually-hidden">{}</span>', name)

    def event_attributes(
        self, context: template.Context, event: str, handler: str | None, trigger: str
    ) -> SafeString:
        if not handler:
            return mark_safe("")
        key = context.get(REPEAT_KEY)
        repeat = format_html(' data-repeat-key="{}"', key) if key is not None else ""
        return format_html(
            ' ws-send hx-trigger="{}" data-event="{}" data-handler="{}" data-target="{}"{}',
            trigger,
            event,
            handler,
            self.dom_id(context),
            repeat,
        )


def sendable(html: SafeString) -> SafeString:
    """HTML a WebSocket text frame can carry: UTF-8 has no surrogates (``"\\udcff"``, from bytes
    decoded with ``surrogateescape``, say), and one would fail the frame's send, and the tab."""
    if _SURROGATE.search(html):
        return mark_safe(_SURROGATE.sub("\ufffd", html))  # noqa: S308 - only characters replaced
    return html


def _resolve(expression: FilterExpression, context: template.Context) -> Any:
    value = expression.resolve(context)
    return plain(value) if isinstance(expression.var, Variable) else value


def _reason(error: Exception) -> str:
    """Why a value cannot be shown, short (the exception's own words when they are for people)."""
    if isinstance(error, ComponentValueError):
        text = str(error)
    elif isinstance(error, RecursionError):
        text = "it is nested too deeply"
    else:
        try:
            text = f"{type(error).__name__}: {error}"
        except Exception:  # an exception whose str() fails
            text = type(error).__name__
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _sequence(value: Any, what: str) -> Iterable[Any]:
    """A list-like value (list, tuple, set...) to iterate; a string or a scalar is refused."""
    if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        raise ComponentValueError(f"{what}, not {type(value).__name__}")
    return cast("Iterable[Any]", value)


def _parse_arguments(
    parser: Parser, token: Token
) -> tuple[list[FilterExpression], dict[str, FilterExpression]]:
    bits = token.split_contents()[1:]
    args, kwargs = [], {}
    for bit in bits:
        name, sep, value = bit.partition("=")
        if sep and name.isidentifier():
            kwargs[name] = parser.compile_filter(value)
        else:
            if kwargs:
                raise template.TemplateSyntaxError(f"{token.contents.split()[0]}: positional after keyword")
            args.append(parser.compile_filter(bit))
    return args, kwargs


def _component(kind: str):  # type: ignore[no-untyped-def]
    def decorate(node_class: type[ComponentNode]) -> type[ComponentNode]:
        node_class.kind = kind

        def compile_tag(parser: Parser, token: Token) -> ComponentNode:
            args, kwargs = _parse_arguments(parser, token)
            node = node_class(args, kwargs)
            node.literal("id")  # validate now: ids and handler names are constants
            for name in ("on_click", "on_change", "on_selected"):
                node.literal(name)
            return node

        register.tag(kind, compile_tag)
        return node_class

    return decorate


@_component("text")
class TextNode(ComponentNode):
    """``{% text greeting %}``: a value as text, in a ``<span>``, so it may sit inside a ``<p>`` or a
    heading (a ``<div>`` there would end the paragraph: ``<p></p><div>...</div><p></p>``)."""

    element = "span"

    def render_inner(self, context: template.Context) -> SafeString:
        value = self.arg(context, 0, "")
        return format_html("{}", "" if value is None else value)


@_component("markdown")
class MarkdownNode(ComponentNode):
    """``{% markdown notes %}``: markdown rendered, then sanitised (no script, no event attributes)."""

    def render_inner(self, context: template.Context) -> SafeString:
        value = self.arg(context, 0, "")
        html = _markdown.render("" if value is None else str(value))
        return mark_safe(nh3.clean(html))  # noqa: S308 - nh3 has just sanitised it


@_component("button")
class ButtonNode(ComponentNode):
    """``{% button "Add one" on_click="increment" %}``."""

    def render_inner(self, context: template.Context) -> SafeString:
        attrs = self.event_attributes(context, UI_CLICK, self.literal("on_click"), "click")
        return format_html('<button type="button"{}>{}</button>', attrs, self.arg(context, 0, "Button"))


@_component("text_input")
class TextInputNode(ComponentNode):
    """``{% text_input name label="Your name" on_change="greet" %}``: the value of a state key."""

    input_type = "text"
    trigger = "input changed delay:150ms, change"

    def render_inner(self, context: template.Context) -> SafeString:
        value = self.arg(context, 0, "")
        attrs = self.event_attributes(context, UI_CHANGE, self.literal("on_change"), self.trigger)
        extra = format_html_join(
            "",
            ' {}="{}"',
            (
                (name, v)
                for name in ("min", "max", "step", "placeholder")
                if (v := self.kwarg(context, name)) is not None
            ),
        )
        input_id = f"{self.dom_id(context)}-input"
        return format_html(
            '<label for="{}">{}</label><input id="{}" name="value" type="{}" value="{}"{}{}>',
            input_id,
            self.label(context),
            input_id,
            self.input_type,
            "" if value is None else value,
            extra,
            attrs,
        )


@_component("number")
class NumberNode(TextInputNode):
    input_type = "number"
    trigger = "input changed delay:150ms, change"


@_component("slider")
class SliderNode(TextInputNode):
    input_type = "range"
    trigger = "input changed throttle:50ms, change"


@_component("checkbox")
class CheckboxNode(ComponentNode):
    """``{% checkbox show_all label="Show all" on_change="toggle" %}``."""

    def render_inner(self, context: template.Context) -> SafeString:
        checked = SafeString(" checked") if self.arg(context, 0) else ""
        attrs = self.event_attributes(context, UI_CHANGE, self.literal("on_change"), "change")
        input_id = f"{self.dom_id(context)}-input"
        return format_html(
            '<label for="{}"><input id="{}" name="value" type="checkbox"{}{}> {}</label>',
            input_id,
            input_id,
            checked,
            attrs,
            self.label(context),
        )


@_component("select")
class SelectNode(ComponentNode):
    """``{% select region options=regions label="Region" on_change="pick" %}``."""

    def render_inner(self, context: template.Context) -> SafeString:
        value = self.arg(context, 0)
        options = self.kwarg(context, "options", []) or []
        if isinstance(options, dict):
            options = list(options)
        options = _sequence(options, "options is a list of values or [value, label] pairs")
        pairs = [
            (plain(o[0]), plain(o[1]))
            if isinstance(o, list | tuple) and len(o) == 2
            else (plain(o), plain(o))
            for o in options
        ]
        chosen = str(value)
        rendered = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((v, mark_safe(" selected") if str(v) == chosen else "", label) for v, label in pairs),
        )
        attrs = self.event_attributes(context, UI_CHANGE, self.literal("on_change"), "change")
        input_id = f"{self.dom_id(context)}-input"
        return format_html(
            '<label for="{}">{}</label><select id="{}" name="value"{}>{}</select>',
            input_id,
            self.label(context),
            input_id,
            attrs,
            rendered,
        )


@_component("progress")
class ProgressNode(ComponentNode):
    """``{% progress done label="Loading" %}``: a fraction from 0 to 1."""

    def render_inner(self, context: template.Context) -> SafeString:
        value = self.arg(context, 0) or 0
        try:
            fraction = float(value)
        except OverflowError:  # an int past float's range: far past either end
            fraction = 1.0 if value > 0 else 0.0
        except (TypeError, ValueError):
            fraction = 0.0
        fraction = min(max(fraction, 0.0), 1.0) if math.isfinite(fraction) else 0.0
        return format_html(
            '<label>{}<progress max="100" value="{}">{}%</progress></label>',
            self.label(context),
            round(fraction * 100),
            round(fraction * 100),
        )


@_component("metric")
class MetricNode(ComponentNode):
    """``{% metric revenue label="Revenue" delta=change %}``."""

    def render_parts(self, context: template.Context) -> tuple[SafeString, SafeString]:
        """The value, and its words for a screen reader (``data-announce``: "Clicks: 3, +1"), each
        read from state once. The element is replaced whole by a swap, and a live region that is
        replaced says nothing, so dashboards.js reads the words into the page's one live region,
        which stays (docs/sdk.md#accessibility)."""
        label, delta = self.kwarg(context, "label"), self.kwarg(context, "delta")
        value = self.arg(context, 0, "")
        has_label, has_delta = label not in (None, ""), delta not in (None, "")
        words = f"{label}: {value}" if has_label else str(value)
        if has_delta:
            words += f", {delta}"
        delta_html = format_html('<span class="dc-delta">{}</span>', delta) if has_delta else ""
        inner = format_html(
            '<span class="dc-metric-label">{}</span><span class="dc-metric-value">{}</span>{}',
            label if has_label else "",
            value,
            delta_html,
        )
        return format_html(' data-announce="{}"', words), inner


def _cell_text(value: Any) -> Any:
    """A table cell: NaN (a DataFrame's missing value) is an empty cell, as in a spreadsheet."""
    return "" if isinstance(value, float) and math.isnan(value) else plain(value)


@_component("table")
class TableNode(ComponentNode):
    """``{% table rows %}``: a list of dicts, a list of lists with ``columns=``, or a split frame."""

    max_rows = 1000

    def render_inner(self, context: template.Context) -> SafeString:
        columns, rows = table_rows(self.arg(context, 0), self.kwarg(context, "columns"))
        if not rows and not columns:  # an empty <table> is announced as a table of nothing
            return format_html('<p class="dc-empty">{}</p>', self.kwarg(context, "empty", "No rows yet."))
        head = format_html_join("", '<th scope="col">{}</th>', ((plain(c),) for c in columns))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (format_html_join("", "<td>{}</td>", ((_cell_text(cell),) for cell in row)),)
                for row in rows[: self.max_rows]
            ),
        )
        caption = self.kwarg(context, "caption")  # the table's name for screen readers, shown above it
        caption_html = format_html("<caption>{}</caption>", caption) if caption else ""
        return format_html(
            "<table>{}<thead><tr>{}</tr></thead><tbody>{}</tbody></table>", caption_html, head, body
        )


TABLE_TAKES = "a table shows a list of dicts, a list of lists (with columns=) or a DataFrame"


def table_rows(value: Any, columns: Any = None) -> tuple[list[Any], list[list[Any]]]:
    """Column names and rows of what a table shows; ComponentValueError for anything else."""
    if value is None:
        return [], []
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame, live (as the codec keeps it)
        value = value.to_dict(orient="split")
    if isinstance(value, dict):
        if "data" not in value or "columns" not in value:
            raise ComponentValueError(f"{TABLE_TAKES}, not a dict without data and columns")
        value, columns = value["data"], value["columns"]  # a DataFrame, split
        columns = _sequence(columns or [], f"{TABLE_TAKES}: its columns are a list")
    rows = list(_sequence(value, TABLE_TAKES))
    if rows and all(isinstance(r, dict) for r in rows):
        names = list(dict.fromkeys(k for r in rows for k in r))
        return names, [[r.get(k, "") for k in names] for r in rows]
    if columns is not None and not isinstance(columns, list | tuple):
        columns = _sequence(columns, "columns= is a list of column names")
    return list(columns or []), [list(r) if isinstance(r, list | tuple) else [r] for r in rows]


CHART_KEYS = "Arrow keys move from point to point, Up and Down from series to series; Enter picks the point."
CHART_SELECTION_KEYS = (
    "Arrow keys move from point to point, Up and Down from series to series; Shift with Left, Right,"
    " Home or End selects a run of points; Enter picks the run, or the point."
)


@_component("chart")
class ChartNode(ComponentNode):
    """``{% chart figure on_click="pick" %}``: a Plotly figure (dict with data and layout)."""

    def render_inner(self, context: template.Context) -> SafeString:
        figure = self.arg(context, 0) or {"data": [], "layout": {}}
        if hasattr(figure, "to_plotly_json"):  # a Plotly figure, live (as the codec keeps it)
            figure = figure.to_plotly_json()
        if not isinstance(figure, dict):
            raise ComponentValueError(
                f"a chart shows a Plotly figure (a dict with data and layout), not {type(figure).__name__}"
            )
        on_click, on_selected = self.literal("on_click") or "", self.literal("on_selected") or ""
        handlers = format_html(
            ' data-target="{}" data-on-click="{}" data-on-selected="{}"'
            ' data-click-event="{}" data-selected-event="{}"',
            self.dom_id(context),
            on_click,
            on_selected,
            PLOTLY_CLICK,
            PLOTLY_SELECTED,
        )
        alt = self.kwarg(context, "alt")  # what it shows, for whoever cannot see it
        plot_id = f"{self.dom_id(context)}-plot"  # focus comes back to it after a swap (keyboard.js)
        described: str = ""
        keys: str = ""
        if on_click or on_selected:
            # Its points are picked from the keyboard too (dashboards.js): a tab stop whose arrow
            # keys reach the page (role "application": a screen reader passes them through).
            described = format_html(
                ' tabindex="0" role="application" aria-roledescription="chart" aria-label="{}"'
                ' aria-describedby="{}-keys"',
                alt or "Chart",
                plot_id,
            )
            said = CHART_SELECTION_KEYS if on_selected else CHART_KEYS
            keys = format_html('<span id="{}-keys" class="visually-hidden">{}</span>', plot_id, said)
        elif alt:
            described = format_html(' role="figure" aria-label="{}"', alt)
        return format_html(
            '<div id="{}" class="dc-plot" data-figure="{}"{}{}></div>{}',
            plot_id,
            _figure_json(figure),
            handlers,
            described,
            keys,
        )


def _figure_json(figure: dict[str, Any]) -> str:
    """Strict JSON (``JSON.parse`` refuses NaN): a missing number is a gap, as Plotly draws None."""
    try:
        return json.dumps(figure, default=str, allow_nan=False)
    except ValueError:
        return json.dumps(_no_nan(figure), default=str, allow_nan=False)


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    return value


@_component("download_button")
class DownloadButtonNode(ButtonNode):
    """``{% download_button "Export CSV" on_click="export" %}``: its handler calls ``download``."""


class RepeatNode(ComponentNode):
    """``{% repeat items as item %}...{% endrepeat %}``: the body once per item (or per dict entry).

    Components inside get ids suffixed with the item's key, and their handlers receive the key
    and value in ``context["repeat_key"]`` and ``context["repeat_value"]``.
    """

    kind = "repeat"
    child_nodelists = ("nodelist",)

    def __init__(self, collection: FilterExpression, name: str, nodelist: NodeList) -> None:
        super().__init__([collection], {})
        self.name = name
        self.nodelist = nodelist

    def state_keys(self) -> set[str]:
        keys = super().state_keys()
        for node in self.nodelist.get_nodes_by_type(ComponentNode):
            keys |= cast(ComponentNode, node).state_keys()
        keys.discard(self.name)
        return keys

    def render_inner(self, context: template.Context) -> SafeString:
        collection = self.arg(context, 0) or []
        if isinstance(collection, dict):
            items: Iterable[tuple[Any, Any]] = collection.items()
        else:
            items = enumerate(_sequence(collection, "repeat goes over a list or a dict"))
        parts = []
        for key, value in items:
            check_render_deadline()
            with context.push({self.name: value, REPEAT_KEY: str(key), OOB_FLAG: False}):
                parts.append(
                    format_html('<div class="dc-repeat-item">{}</div>', self.nodelist.render(context))
                )
        return mark_safe("".join(parts))  # noqa: S308 - each part was built by format_html


@register.tag("repeat")
def repeat_tag(parser: Parser, token: Token) -> RepeatNode:
    bits = token.split_contents()
    if len(bits) != 4 or bits[2] != "as" or not bits[3].isidentifier():
        raise template.TemplateSyntaxError("use {% repeat items as item %}...{% endrepeat %}")
    nodelist = parser.parse(("endrepeat",))
    parser.delete_first_token()
    return RepeatNode(parser.compile_filter(bits[1]), bits[3], nodelist)


# --- scenarios: every app gets these two; the platform fills the ``scenarios`` key for them ---
SCENARIOS_KEY = "scenarios"  # reserved: a list of small dicts (id, name, status, owner, tags, updated)
DEFAULT_SCENARIO_KEY = "scenario"
SCENARIO_KINDS = frozenset({"scenario_selector", "scenario_list"})


def page_uses_scenarios(page: Any) -> bool:
    """Whether a compiled page shows scenario components (its sessions then get the ``scenarios`` key)."""
    return any(page.component_kind(cid) in SCENARIO_KINDS for cid in page.readers.get(SCENARIOS_KEY, ()))


class ScenarioComponentNode(ComponentNode):
    """Reads the reserved ``scenarios`` key, filtered by the constant ``status=`` and ``tag=``."""

    def state_keys(self) -> set[str]:
        return super().state_keys() | {SCENARIOS_KEY}

    def scenarios(self, context: template.Context) -> list[dict[str, Any]]:
        rows = context.get(SCENARIOS_KEY) or []
        status, tag = self.kwarg(context, "status"), self.kwarg(context, "tag")
        return [
            row
            for row in rows
            if isinstance(row, dict)
            and (not status or row.get("status") == status)
            and (not tag or tag in (row.get("tags") or ()))
        ]


@_component("scenario_selector")
class ScenarioSelectorNode(ScenarioComponentNode):
    """``{% scenario_selector scenario label="Scenario" on_change="pick" %}``: a drop-down of the
    app's scenarios; the first argument is the state key holding the chosen id (``scenario`` when
    omitted), and ``on_change`` receives the chosen id as its payload (a string; "" for none).
    """

    def state_keys(self) -> set[str]:
        return super().state_keys() | (set() if self.args else {DEFAULT_SCENARIO_KEY})

    def render_inner(self, context: template.Context) -> SafeString:
        chosen = self.arg(context, 0) if self.args else context.get(DEFAULT_SCENARIO_KEY)
        chosen = "" if chosen is None else str(chosen)
        options = format_html_join(
            "",
            '<option value="{}"{}>{} ({})</option>',
            (
                (
                    row.get("id"),
                    mark_safe(" selected") if str(row.get("id")) == chosen else "",
                    row.get("name"),
                    row.get("status"),
                )
                for row in self.scenarios(context)
            ),
        )
        attrs = self.event_attributes(context, UI_CHANGE, self.literal("on_change"), "change")
        input_id = f"{self.dom_id(context)}-input"
        return format_html(
            '<label for="{}">{}</label><select id="{}" name="value"{}>'
            '<option value="">{}</option>{}</select>',
            input_id,
            self.kwarg(context, "label", "Scenario"),
            input_id,
            attrs,
            self.kwarg(context, "placeholder", "Choose a scenario…"),
            options,
        )


@_component("scenario_list")
class ScenarioListNode(ScenarioComponentNode):
    """``{% scenario_list on_click="open" selected=scenario %}``: a table of the app's scenarios.

    With ``on_click``, each row has a button (``button="Open"``) whose handler finds the
    scenario's id in ``context["repeat_key"]``; ``selected=`` marks the row of that id.
    """

    def render_inner(self, context: template.Context) -> SafeString:
        rows = self.scenarios(context)
        if not rows:
            return format_html(
                '<p class="dc-empty">{}</p>', self.kwarg(context, "empty", "No scenarios yet.")
            )
        handler = self.literal("on_click")
        selected = self.kwarg(context, "selected")
        label = self.kwarg(context, "button", "Open")
        body = []
        for row in rows:
            current = mark_safe(' aria-current="true"') if str(row.get("id")) == str(selected) else ""
            action = ""
            if handler:
                with context.push({REPEAT_KEY: str(row.get("id"))}):
                    attrs = self.event_attributes(context, UI_CLICK, handler, "click")
                # "Open" alone, row after row, says nothing to a screen reader; the id is where
                # keyboard focus returns when the list is drawn again (it went to the first row's).
                action = format_html(
                    '<td><button type="button" id="{}-open-{}" aria-label="{} {}"{}>{}</button></td>',
                    self.component_id, row.get("id"), label, row.get("name"), attrs, label,
                )  # fmt: skip
            tags = ", ".join(str(t) for t in row.get("tags") or ())
            body.append(
                format_html(
                    '<tr data-scenario-id="{}"{}><td>{}</td>'
                    '<td><span class="dc-status dc-status-{}">{}</span></td>'
                    "<td>{}</td><td>{}</td><td>{}</td>{}</tr>",
                    row.get("id"),
                    current,
                    row.get("name"),
                    row.get("status"),
                    row.get("status"),
                    row.get("owner") or "—",
                    tags,
                    row.get("updated"),
                    action,
                )
            )
        head = format_html(
            '<tr><th scope="col">Scenario</th><th scope="col">Status</th><th scope="col">Owner</th>'
            '<th scope="col">Tags</th><th scope="col">Updated</th>{}</tr>',
            mark_safe('<th scope="col"><span class="visually-hidden">Actions</span></th>') if handler else "",
        )
        return format_html(
            '<table class="dc-scenarios"><thead>{}</thead><tbody>{}</tbody></table>',
            head,
            mark_safe("".join(body)),  # noqa: S308 - each row was built by format_html
        )
