"""Running an app's ``broadcast_on_event`` callbacks in one session, with that session's state.

The fields of a subscription's filter are tested on the event loop (plain comparisons); its
predicate is app code, so it runs with the callback, through the executor, under the time limit.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from dashboards.events.event import Event
from dashboards.events.processors import EventSubscription


def wanted_subscriptions(subscriptions: list[EventSubscription], event: Event) -> list[EventSubscription]:
    return [s for s in subscriptions if s.filter.matches_fields(event)]


def callback_call(subscription: EventSubscription, state: Any, event: Event) -> Callable[[], Any]:
    """A function of no arguments for the executor: the predicate, then the callback."""
    predicate, callback, extra = (
        subscription.filter.predicate,
        subscription.callback,
        subscription.callback_args,
    )
    if inspect.iscoroutinefunction(callback):

        async def run_async() -> Any:
            if predicate is None or predicate(event):
                return await callback(state, event, *extra)
            return None

        return run_async

    def run() -> Any:
        if predicate is None or predicate(event):
            return callback(state, event, *extra)
        return None

    return run
