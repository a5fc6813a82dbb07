"""An app of the events tests: a processor on the server, one in every session, and custom events."""

from dashboards.sdk import EventProcessor, emit_event

initial_state = {"seen": [], "last": ""}
page = """{% text last %} {% text seen %}
{% button "Tell" on_click="tell" %}"""

processor = EventProcessor()


def record(event, label):
    print(f"on_event {label} {event.entity_type} {event.entity_id} {event.operation} {event.attribute_value}")


def show(state, event):
    state.seen.append(f"{event.entity_type}:{event.entity_id}")
    state.last = f"{event.entity_type} {event.entity_id} {event.attribute_value}"


def only_big(event):
    return isinstance(event.attribute_value, int) and event.attribute_value > 10


def stuck(event):
    import time

    time.sleep(30)


def broken(event):
    raise ValueError("this callback fails on purpose")


processor.on_event(record, callback_args=["custom"], entity_type="custom", entity_id="ping")
processor.on_event(broken, entity_type="custom", entity_id="ping")
processor.on_event(record, ["big"], entity_type="custom", entity_id="ping", filter=only_big)
processor.on_event(stuck, entity_type="custom", entity_id="stuck")
processor.on_event(record, ["after-stuck"], entity_type="custom", entity_id="stuck")
processor.broadcast_on_event(show, entity_type="custom")
processor.on_scenario_created(lambda event: record(event, "scenario"))


def tell(state):
    emit_event("ping", 42)
