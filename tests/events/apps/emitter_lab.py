"""A test app with an rq emitter: its subscribers print, fail, tell a team, and report back."""

import asyncio

from dashboards.sdk import EventEmitter, notify_team

orders = EventEmitter("orders", service="rq", debug=True, time_limit=1)
local = EventEmitter("local", service="threads")

initial_state = {"placed": 0}
page = '{% text placed %}{% button "Place" on_click="place" %}'


@orders.subscribe("order:placed")
def record(order_id, amount=0):
    print(f"recorded order {order_id} for {amount}")
    return order_id


async def tell(order_id, amount=0):
    await asyncio.sleep(0)
    notify_team("Analysts", "info", f"order {order_id} placed")


def refuse(order_id, amount=0):
    raise ValueError(f"order {order_id} refused")


def hang(order_id, amount=0):
    import time

    time.sleep(30)


def reported(error):
    print(f"on_failure got {type(error).__name__}: {error}")


def succeeded(result):
    print(f"on_success got {result}")


orders.subscribe("order:placed", tell)
orders.subscribe("order:placed", refuse, on_failure=reported)
orders.subscribe("order:placed", hang, on_failure=reported)
orders.subscribe("order:placed", record, once=True, on_success=succeeded)


def place(state):
    state.placed += 1
    orders.emit("order:placed", state.placed, amount=9.5)
