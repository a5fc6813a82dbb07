"""Counter and greeting: the smallest live app."""

from dashboards.sdk import notify

initial_state = {"count": 0, "name": "", "greeting": "Hello, stranger!"}

page = """
<section class="card">
  <h2>Counter</h2>
  {% metric count label="Clicks" id="count" %}
  <div class="row">
    {% button "Add one" on_click="increment" id="add" %}
    {% button "Reset" on_click="reset" id="reset" %}
  </div>
</section>
<section class="card">
  <h2>Greeting</h2>
  {% text_input name label="Your name" on_change="set_name" id="name" %}
  <p>{% text greeting id="greeting" %}</p>
</section>
"""


def increment(state):
    state.count += 1
    if state.count % 10 == 0:
        notify(state, "success", f"{state.count} clicks!")


def reset(state):
    state.count = 0


def set_name(state, payload):
    state.name = (payload or "").strip()[:80]
    state.greeting = f"Hello, {state.name}!" if state.name else "Hello, stranger!"
