"""A test app: handlers that fail, and state that tries to inject markup."""

from dashboards.sdk import notify

initial_state = {"count": 0, "shown": "<img src=x onerror=alert(1)>", "typed": ""}

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
</div>
"""


def increment(state):
    state.count += 1


def explode(state):
    state.count += 100
    raise RuntimeError("this button always fails")


def hello(state):
    notify(state, "info", "Hi there", duration=0, position="bottom-left")


def type_text(state, payload):
    state.typed = payload
