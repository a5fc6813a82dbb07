"""A test app: handlers that fail, and state that tries to inject markup."""

from dashboards.sdk import notify, set_content

initial_state = {"count": 0, "shown": "<img src=x onerror=alert(1)>", "typed": "", "grid": [[0]]}

page = """
{% metric count label="Count" id="count" %}
{% text shown id="shown" %}
{% text typed id="typed" %}
{% markdown typed id="typed-md" %}
{% text_input typed label="Type here" on_change="type_text" id="type" %}
<div class="row">
  {% button "Add one" on_click="increment" id="add" %}
  {% button "Break" on_click="explode" id="explode" %}
  {% button "Say hi" on_click="hello" id="hello" %}
  {% button "Odd commands" on_click="odd_commands" id="odd" %}
  {% button "Heavy page" on_click="heavy" id="heavy" %}
</div>
{% repeat grid as row %}{% text row.0 id="cell" %}
{% for a in row %}{% for b in row %}{% if a == b %}.{% endif %}{% endfor %}{% endfor %}
{% endrepeat %}
<p id="note"></p>
"""


def increment(state):
    state.count += 1


def explode(state):
    state.count += 100
    raise RuntimeError("this button always fails")


def heavy(state):
    state.count += 100
    state.grid = [list(range(5000))]  # the page loops 25 million times over it


def hello(state):
    notify(state, "info", "Hi there", duration=0, position="bottom-left")


def type_text(state, payload):
    state.typed = payload


def odd_commands(state):
    set_content(state, "#a[", "not a selector")  # the browser cannot parse it
    set_content(state, "body", "wipe the page")  # not an element of the app
    set_content(state, ".row", "wipe the buttons")  # holds components
    set_content(state, "#count", "n/a")  # is a component
    set_content(state, "#count .dc-metric-value", "n/a")  # inside one
    set_content(state, "#note", "Noted")
    notify(state, "success", "Odd commands sent")
