"""Pages: components bound to state, rendered whole or one by one, always escaped."""

from __future__ import annotations

import decimal
import re
from html.parser import HTMLParser

import pytest
from django.utils.safestring import mark_safe

from dashboards.runtime.page import PageError, RenderError, compile_page
from dashboards.runtime.render_deadline import RenderTooSlow, render_deadline

PAGE = """
<h1>Shop</h1>
{% metric count label="Clicks" id="count" %}
{% button "Add" on_click="increment" %}
{% text_input name label="Name" on_change="set_name" %}
{% markdown notes %}
{% table rows %}
{% select region options=regions on_change="pick" %}
{% checkbox show label="Show" on_change="toggle" %}
{% progress done %}
{% repeat items as item %}{% text item.label %}{% button "Remove" on_click="remove" %}{% endrepeat %}
{% chart figure on_click="pick_bar" %}
"""
VALUES = {
    "count": 3,
    "name": "Ada",
    "notes": "**bold**",
    "rows": [{"a": 1}],
    "region": "EU",
    "regions": ["EU", "US"],
    "show": True,
    "done": 0.5,
    "items": [{"label": "x"}, {"label": "y"}],
    "figure": {"data": [{"type": "bar", "x": ["a"], "y": [1]}], "layout": {}},
}
ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '" hx-on:click="alert(1)',
    "' autofocus onfocus='alert(1)",
    "</textarea><svg onload=alert(1)>",
]


class ElementCollector(HTMLParser):
    """Every tag and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs


def parse(html: str) -> ElementCollector:
    collector = ElementCollector()
    collector.feed(html)
    return collector


@pytest.fixture(scope="module")
def page():
    return compile_page(PAGE)


def test_each_state_key_maps_to_the_components_that_read_it(page) -> None:
    assert page.readers["count"] == ["count"]
    assert page.components_reading({"name"}) == ["c3"]
    assert set(page.components_reading({"regions", "region"})) == {"c6"}
    assert page.has_chart


def test_partial_render_sends_only_the_named_components_out_of_band(page) -> None:
    html = page.render_components(page.components_reading({"count"}), VALUES)
    assert re.findall(r'id="([^"]+)" class="dc ', html) == ["count"]
    assert 'hx-swap-oob="true"' in html and ">3<" in html


def test_full_render_has_every_component(page) -> None:
    html = page.render(VALUES)
    for component_id in page.components:
        assert f'id="{component_id}"' in html
    assert 'id="c11-0"' in html and 'id="c11-1"' in html  # repeated buttons, one per item
    assert 'data-repeat-key="1"' in html


@pytest.mark.parametrize("attack", ATTACKS)
def test_state_values_are_escaped_everywhere(page, attack: str) -> None:
    values = {key: attack for key in VALUES}
    values.update(rows=[{attack: attack}], regions=[attack], items=[{"label": attack}], done=0, figure=None)
    html = page.render(values) + page.render_components(list(page.components), values)
    elements = parse(html)
    assert not {"script", "img", "svg"} & set(elements.tags)
    assert [name for name, _ in elements.attributes if name.startswith(("on", "hx-on", "autofocus"))] == []


def test_markdown_is_sanitised() -> None:
    page = compile_page("{% markdown notes %}")
    html = page.render(
        {"notes": "# Hi\n<script>alert(1)</script>\n[x](javascript:alert(1))\n<b onclick=x>b</b>"}
    )
    assert "<h1>Hi</h1>" in html
    elements = parse(html)
    assert "script" not in elements.tags and "b" not in elements.tags
    assert not any(name == "onclick" or "javascript:" in (value or "") for name, value in elements.attributes)


def test_handler_names_must_be_constants() -> None:
    with pytest.raises(Exception, match="quoted string"):
        compile_page("{% button 'x' on_click=handler_from_state %}")


def test_page_errors_name_the_problem() -> None:
    with pytest.raises(PageError, match="page:"):
        compile_page("{% button 'x' %}{% endfor %}")
    with pytest.raises(PageError, match="two components have the id"):
        compile_page("{% text a id='x' %}{% text b id='x' %}")


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ('{% include "base.html" %}', r"\{% include %\} is not available in a page: a page is one template"),
        ('{% extends "base.html" %}', r"\{% extends %\} is not available in a page"),
        ("<p>\n{% load static %}", r"\{% load %\} is not available in a page: a page has no tag libraries"),
    ],
)
def test_pages_cannot_include_extend_or_load_and_the_report_says_why(source: str, said: str) -> None:
    """They failed at render: "TemplateDoesNotExist", or an empty list of libraries to pick from."""
    with pytest.raises(PageError, match=said) as caught:
        compile_page(source)
    assert caught.value.line == source.count("\n") + 1


def test_a_component_reading_only_changed_scalars_is_rendered_once_per_value() -> None:
    page = compile_page(PAGE)
    values = {**VALUES, "count": 7}
    first = page.render_components(["count"], values, {"count": "7"})
    assert len(page.rendered) == 1
    page.components["count"] = None  # a second render would fail: the fragment is reused
    assert page.render_components(["count"], {**VALUES, "count": 7}, {"count": "7"}) == first


def test_the_render_cache_never_confuses_values_or_types() -> None:
    page = compile_page(PAGE)
    as_int = page.render_components(["count"], {**VALUES, "count": 1}, {"count": "1"})
    as_float = page.render_components(["count"], {**VALUES, "count": 1.0}, {"count": "1.0"})
    as_other = page.render_components(["count"], {**VALUES, "count": 2}, {"count": "2"})
    assert ">1<" in as_int.replace(" ", "") and "1.0" in as_float and ">2<" in as_other.replace(" ", "")
    # Lists may hold tuples, which their JSON text does not tell apart: never cached.
    table = page.readers["rows"][0]
    page.render_components([table], {**VALUES, "rows": [(1, 2)]}, {"rows": "[[1,2]]"})
    assert not [key for key in page.rendered if key[0] == table]


@pytest.mark.parametrize("attack", ATTACKS)
def test_safe_strings_in_state_are_escaped_like_any_other(page, attack: str) -> None:
    """``mark_safe``/``format_html`` values in state: escaped now, as they are after a reload."""
    unsafe = mark_safe(attack)  # noqa: S308 - the point of the test
    values = {key: unsafe for key in VALUES}
    values.update(rows=[{unsafe: unsafe}], regions=[[unsafe, unsafe]], items=[{"label": unsafe}], figure=None)
    values.update(done=0)
    html = page.render(values) + page.render_components(list(page.components), values)
    elements = parse(html)
    assert not {"script", "img", "svg"} & set(elements.tags)
    assert [name for name, _ in elements.attributes if name.startswith(("on", "hx-on", "autofocus"))] == []
    literal = compile_page('{% button "<b>Add</b>" on_click="add" id="b" %}')  # the page's own text stays
    assert "<b>Add</b>" in literal.render_components(["b"], {})


@pytest.mark.parametrize(
    ("source", "value", "says"),
    [
        (
            '{% select v options=o id="x" %}',
            {"o": 5},
            "options is a list of values or [value, label] pairs, not int",
        ),
        ('{% select v options=o id="x" %}', {"o": "EU"}, "options is a list of values"),
        ('{% table v id="x" %}', {"v": 5}, "a table shows a list of dicts"),
        ('{% table v id="x" %}', {"v": True}, "a table shows a list of dicts"),
        ('{% table v id="x" %}', {"v": {"a": [1, 2]}}, "not a dict without data and columns"),
        ('{% table v id="x" %}', {"v": {"data": 5, "columns": ["a"]}}, "a table shows"),
        (
            "{% repeat v as i %}{% text i %}{% endrepeat %}",
            {"v": 5},
            "repeat goes over a list or a dict, not int",
        ),
        ('{% chart v id="x" %}', {"v": [1, 2]}, "a chart shows a Plotly figure"),
    ],
)
def test_a_value_a_component_cannot_show_raises_a_clear_error(source: str, value: dict, says: str) -> None:
    """The session undoes the handler that stored it (RenderError); the page still loads."""
    page = compile_page(source)
    [component] = page.components
    with pytest.raises(RenderError, match=re.escape(says)):
        page.render_components([component], value)
    html = page.render(value)  # the whole page, as it loads: the reason in place of the value
    assert 'class="dc-error" role="alert"' in html and says.split(",", maxsplit=1)[0] in html.replace(
        "&#x27;", "'"
    )


def test_a_page_for_a_shared_link_says_a_value_cannot_be_shown_but_not_why() -> None:
    """Anyone may hold a link: the exception's words stay out of the page (the server's log has them)."""
    page = compile_page('{% table rows id="t" %}')
    broken = {"rows": 5}
    for html in (
        page.render(broken, reasons=False),
        page.render_components(["t"], broken, lenient=True, reasons=False),
    ):
        assert '<span class="dc-error" role="alert">This table cannot show its value.</span>' in html
    assert "This table cannot show its value: " in page.render(broken)


@pytest.mark.parametrize("done", [decimal.Decimal("NaN"), 10**400, -(10**400), "half", float("inf"), [1]])
def test_progress_shows_any_value_without_failing(done) -> None:
    page = compile_page('{% progress done id="p" %}')
    html = page.render_components(["p"], {"done": done})
    assert re.search(r'value="(0|100)"', html)


def test_live_dataframes_and_figures_render_as_after_a_reload() -> None:
    """The handler's own objects (before the codec's round trip) render as their stored forms."""

    class Frame:  # what a pandas DataFrame offers the codec and the table
        columns = ["region", "sales"]

        def to_dict(self, orient: str) -> dict:
            return {"index": [0], "columns": ["region", "sales"], "data": [["EU", 3]]}

    class Figure:  # a Plotly figure, with a gap in its data
        def to_plotly_json(self) -> dict:
            return {"data": [{"type": "bar", "y": [1, float("nan")]}], "layout": {}}

    page = compile_page('{% table frame id="t" %}{% chart figure id="c" %}')
    html = page.render_components(["t", "c"], {"frame": Frame(), "figure": Figure()})
    assert '<th scope="col">region</th><th scope="col">sales</th>' in html and "<td>EU</td><td>3</td>" in html
    assert "[1, null]" in html.replace("&quot;", '"') and "NaN" not in html  # JSON.parse refuses NaN


def test_a_surrogate_in_state_never_reaches_a_frame() -> None:
    """Bytes decoded with surrogateescape: UTF-8 has no surrogates, the frame could not be sent."""
    page = compile_page('{% text name id="n" %}{% table rows id="t" %}')
    name = b"caf\xe9".decode("utf-8", "surrogateescape")
    html = page.render_components(["n", "t"], {"name": name, "rows": [{name: name}]})
    assert html.encode("utf-8") and "caf\ufffd" in html


@pytest.mark.parametrize("tag", ["{% lorem 99999999 w %}", "{% debug %}"])
def test_built_in_tags_that_stall_or_expose_the_server_are_not_in_pages(tag: str) -> None:
    with pytest.raises(PageError, match="Invalid block tag"):
        compile_page(tag)


def test_a_missing_value_in_a_table_is_an_empty_cell() -> None:
    page = compile_page('{% table rows id="t" %}')
    html = page.render_components(["t"], {"rows": [{"region": "EU", "sales": float("nan")}]})
    assert "<td>EU</td><td></td>" in html


@pytest.mark.parametrize(
    "expression",
    ["name|ljust:width", "name|center:width", "price|floatformat:width", "price|stringformat:spec"],
)
def test_a_width_from_state_cannot_make_a_filter_build_gigabytes(expression: str) -> None:
    """The page renders on the event loop of every tab of the process: a handler storing a width
    of 10**9 (from a payload, say) is undone like any value the page cannot show."""
    page = compile_page(f'{{% text {expression} id="t" %}}')
    values = {"name": "Ada", "price": 1.5, "width": 10**9, "spec": "0999999999d"}
    with pytest.raises(RenderError, match="above 1000 are refused"):
        page.render_components(["t"], values)
    shown = page.render_components(["t"], {**values, "width": 6, "spec": "06d"})
    assert shown.count("<span") == 1  # one element: the text component


LOOPS_OVER_STATE = (
    '{% repeat grid as row %}{% text row.0 id="cell" %}'
    "{% for a in row %}{% for b in row %}{% if a == b %}.{% endif %}{% endfor %}{% endfor %}"
    "{% endrepeat %}"
)


def test_a_render_past_its_time_limit_stops_at_the_next_turn_of_a_loop() -> None:
    """A loop over a loop of state: 25 million turns, stopped once the limit has passed."""
    page = compile_page(LOOPS_OVER_STATE)
    grid = {"grid": [list(range(5000))]}
    with render_deadline(0.05), pytest.raises(RenderTooSlow, match=r"longer than 0\.05 s"):
        page.render_components(["c1"], grid)
    with render_deadline(0.05), pytest.raises(RenderTooSlow):  # a whole page: not shown as broken
        page.render_components(["c1"], grid, lenient=True)
    assert page.render_components(["c1"], {"grid": [[1, 2]]}).count(".") == 2  # no limit, no check


@pytest.mark.parametrize(
    ("loop", "shown"),
    [
        ("{% for x in items %}{{ forloop.counter }}{{ x }}{% endfor %}", "1a2b"),
        ("{% for x in items reversed %}{{ x }}{% endfor %}", "ba"),
        ("{% for k, v in pairs.items %}{{ k }}={{ v }};{% endfor %}", "p=1;q=2;"),
        ("{% for x in nothing %}{{ x }}{% empty %}none{% endfor %}", "none"),
        ("{% for c in word %}{{ c }}|{% endfor %}", "h|i|"),
    ],
)
def test_loops_under_a_time_limit_show_what_django_loops_show(loop: str, shown: str) -> None:
    page = compile_page(f'{{% repeat rows as row %}}{{% text row id="t" %}}{loop}{{% endrepeat %}}')
    values = {"rows": [0], "items": ["a", "b"], "pairs": {"p": 1, "q": 2}, "nothing": [], "word": "hi"}
    with render_deadline(5):
        html = page.render_components(["c1"], values)
    assert shown in html


def test_a_misspelt_tag_is_named_with_its_line_and_no_advice_to_load_a_library() -> None:
    with pytest.raises(PageError) as refused:
        compile_page('a\n{% buton "x" %}')
    assert refused.value.line == 2
    assert "Invalid block tag on line 2: 'buton'" in str(refused.value)
    assert "load" not in str(refused.value)  # {% load %} is withheld from pages


def test_text_is_a_span_so_it_sits_inside_a_paragraph() -> None:
    page = compile_page('<p>Hello, {% text name id="name" %}!</p>{% metric count id="count" %}')
    html = page.render({"name": "Ada", "count": 1})
    assert html.startswith('<p>Hello, <span id="name" class="dc dc-text">Ada</span>!</p><div id="count"')
    swapped = page.render_components(["name"], {"name": "<b>Grace</b>"})
    assert swapped == '<span id="name" class="dc dc-text" hx-swap-oob="true">&lt;b&gt;Grace&lt;/b&gt;</span>'
    broken = compile_page('<p>{% text name|ljust:width id="name" %}</p>')
    html = broken.render({"name": "Ada", "width": 10**9})  # a whole page shows why, in the same span
    assert html.startswith('<p><span id="name" class="dc dc-text dc-broken"><span class="dc-error"')
    assert html.endswith("</span></span></p>")


def test_components_say_what_they_are_to_a_screen_reader() -> None:
    """An empty table was an empty <table>; a chart, its axis ticks; every scenario button "Open"."""
    page = compile_page('{% table rows id="t" %}{% chart figure id="c" alt="Revenue by region" %}')
    html = page.render_components(["t", "c"], {"rows": [], "figure": {"data": [], "layout": {}}})
    assert '<p class="dc-empty">No rows yet.</p>' in html and "<table" not in html
    assert 'role="figure" aria-label="Revenue by region"' in html
    assert 'id="c-plot"' in html and "tabindex" not in html  # no event: no tab stop
    clickable = compile_page('{% chart figure id="c" alt=words on_click="pick" %}')
    html = clickable.render_components(["c"], {"figure": {"data": [], "layout": {}}, "words": "<b>"})
    assert (
        '<div id="c-plot" class="dc-plot" data-figure="{&quot;data&quot;: [], &quot;layout&quot;: {}}"'
        ' data-target="c" data-on-click="pick"' in html
    )
    assert (
        ' tabindex="0" role="application" aria-roledescription="chart"'
        ' aria-label="&lt;b&gt;" aria-describedby="c-plot-keys"></div>'
        '<span id="c-plot-keys" class="visually-hidden">Arrow keys move' in html
    )  # its points are picked from the keyboard too (dashboards.js)
    selectable = compile_page('{% chart figure id="c" on_selected="pick" %}')
    html = selectable.render_components(["c"], {"figure": {"data": [], "layout": {}}})
    assert ' tabindex="0" role="application" aria-roledescription="chart" aria-label="Chart"' in html
    assert "Shift with Left, Right, Home or End selects a run of points" in html
    named = compile_page('{% table rows id="t" caption="Orders" %}{% table rows id="u" caption=title %}')
    html = named.render_components(["t", "u"], {"rows": [{"n": 1}], "title": "<b>Mine</b>"})
    assert "<table><caption>Orders</caption><thead>" in html
    assert "<caption>&lt;b&gt;Mine&lt;/b&gt;</caption>" in html  # from state: escaped


CONTROLS = """
{% text_input name label="Your name" id="name" %}{% number level label="Level" id="level" %}
{% slider speed label="Speed" id="speed" %}{% select region options=regions label="Region" id="region" %}
{% checkbox show label="Show all" id="show" %}{% progress done label="Loading" id="bar" %}
"""


def test_every_control_is_named_by_the_label_tied_to_it() -> None:
    """A screen reader names a control by its <label for=...>: each one's for= is its input's id."""
    html = compile_page(CONTROLS).render({"regions": ["EU"], "done": 0.5})
    named = [("name", "Your name"), ("level", "Level"), ("speed", "Speed"), ("region", "Region")]
    for component_id, words in named:
        assert f'<label for="{component_id}-input">{words}</label>' in html
        assert re.search(f'<(input|select) id="{component_id}-input"', html)
    assert '<label for="show-input"><input id="show-input" name="value" type="checkbox">' in html
    assert "> Show all</label>" in html
    assert '<label>Loading<progress max="100" value="50">' in html


def test_a_control_without_a_label_is_named_after_its_state_key_for_screen_readers() -> None:
    """`label=` left out gave an empty <label>: "edit text", "combo box", a nameless progress bar."""
    page = compile_page(
        '{% text_input unit_price id="a" %}{% number qty id="b" %}{% slider item.speed id="c" %}'
        '{% select region options=regions id="d" %}{% checkbox show_all id="e" %}{% progress done id="f" %}'
    )
    html = page.render({"regions": ["EU"], "item": {"speed": 1}})
    hidden = '<span class="visually-hidden">{}</span>'
    for component_id, words in [("a", "Unit price"), ("b", "Qty"), ("c", "Item speed"), ("d", "Region")]:
        assert f'<label for="{component_id}-input">{hidden.format(words)}</label>' in html
    assert f"> {hidden.format('Show all')}</label>" in html
    assert f"<label>{hidden.format('Done')}<progress" in html


def test_a_metric_gives_its_new_value_in_words_for_the_pages_live_region() -> None:
    """A metric swapped in is a new element, which no screen reader announces: dashboards.js reads
    its data-announce into the page's live region."""
    page = compile_page('{% metric count label="Clicks" id="n" %}{% metric total delta=change id="t" %}')
    html = page.render_components(["n", "t"], {"count": 3, "total": "<b>9</b>", "change": "+1"})
    assert '<div id="n" class="dc dc-metric" data-announce="Clicks: 3" hx-swap-oob="true">' in html
    assert 'data-announce="&lt;b&gt;9&lt;/b&gt;, +1"' in html  # from state: escaped
