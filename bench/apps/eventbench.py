"""The events benchmark's app: every open tab follows the custom event "tick" and shows its value."""

from dashboards.sdk import EventProcessor

initial_state = {"tick": ""}
page = """{% text tick id="tick" %}"""

processor = EventProcessor()


def on_tick(state, event):
    state.tick = event.attribute_value


processor.broadcast_on_event(on_tick, entity_type="custom", entity_id="tick")
