"""``EventProcessor``: an app's reactions to the events of its tenant (Taipy's API).

An app creates processors at import time (module level) and registers callbacks:

- ``on_event(callback, ...)`` runs ``callback(event, *callback_args)`` on the server, once per
  event for the whole platform: the process that commits the event enqueues one task per
  matching release on RQ's ``events`` queue, and RQ hands each task to exactly one worker.
- ``broadcast_on_event(callback, ...)`` runs ``callback(state, event, *callback_args)`` in every
  open session of the app, each with its own state; the changed components go to each page.

Filters are checked at registration: an unknown entity type or operation raises there, so a
release that names one fails validation with the message. No Django import here (app code
imports the SDK in a bare validation process).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dashboards.events.event import EntityType, Event, EventFilter, Operation

Callback = Callable[..., Any]
JOB_END_STATUSES = ("finished", "failed", "canceled", "stopped")


@dataclass(frozen=True)
class EventSubscription:
    callback: Callback
    filter: EventFilter
    callback_args: tuple[Any, ...] = ()
    broadcast: bool = False

    @property
    def name(self) -> str:
        return str(getattr(self.callback, "__qualname__", repr(self.callback)))

    def matches(self, event: Event) -> bool:
        return self.filter.matches(event)


class EventProcessor:
    """Holds an app's event subscriptions; the platform runs them (there is nothing to start)."""

    def __init__(self) -> None:
        self.subscriptions: list[EventSubscription] = []
        from dashboards.runtime.loader import register_event_processor  # noqa: PLC0415 - import cycle

        register_event_processor(self)

    def on_event(  # noqa: PLR0917 - Taipy's positional signature
        self,
        callback: Callback,
        callback_args: Sequence[Any] | None = None,
        entity_type: Any = None,
        entity_id: Any = None,
        operation: Any = None,
        attribute_name: str | None = None,
        filter: Callable[[Event], bool] | None = None,  # noqa: A002 - Taipy's name
    ) -> EventSubscription:
        """Run ``callback(event, *callback_args)`` once per matching event, on a worker."""
        return self._add(callback, callback_args=callback_args, entity_type=entity_type, entity_id=entity_id,
                         operation=operation, attribute_name=attribute_name, predicate=filter,
                         broadcast=False)  # fmt: skip

    def broadcast_on_event(  # noqa: PLR0917 - Taipy's positional signature
        self,
        callback: Callback,
        callback_args: Sequence[Any] | None = None,
        entity_type: Any = None,
        entity_id: Any = None,
        operation: Any = None,
        attribute_name: str | None = None,
        filter: Callable[[Event], bool] | None = None,  # noqa: A002 - Taipy's name
    ) -> EventSubscription:
        """Run ``callback(state, event, *callback_args)`` in every open session of this app."""
        return self._add(callback, callback_args=callback_args, entity_type=entity_type, entity_id=entity_id,
                         operation=operation, attribute_name=attribute_name, predicate=filter,
                         broadcast=True)  # fmt: skip

    # --- shorthands for the common topics ---
    def on_scenario_created(self, callback: Callback, *, broadcast: bool = False) -> EventSubscription:
        return self._shorthand(
            callback, broadcast=broadcast, entity_type=EntityType.SCENARIO, operation=Operation.CREATION
        )

    def on_scenario_deleted(self, callback: Callback, *, broadcast: bool = False) -> EventSubscription:
        return self._shorthand(
            callback, broadcast=broadcast, entity_type=EntityType.SCENARIO, operation=Operation.DELETION
        )

    def on_scenario_submitted(self, callback: Callback, *, broadcast: bool = False) -> EventSubscription:
        return self._shorthand(
            callback, broadcast=broadcast, entity_type=EntityType.SCENARIO, operation=Operation.SUBMISSION
        )

    def on_submission_finished(self, callback: Callback, *, broadcast: bool = False) -> EventSubscription:
        """A scenario's run ended, completed or failed (``event.attribute_value`` says which)."""
        return self._shorthand(
            callback, broadcast=broadcast, entity_type=EntityType.SUBMISSION, operation=Operation.UPDATE,
            attribute_name="status", predicate=lambda event: event.attribute_value in ("completed", "failed"),
        )  # fmt: skip

    def on_data_node_written(self, callback: Callback, *, broadcast: bool = False) -> EventSubscription:
        return self._shorthand(
            callback, broadcast=broadcast, entity_type=EntityType.DATA_NODE, operation=Operation.UPDATE
        )

    def on_job_finished(self, callback: Callback, *, broadcast: bool = False) -> EventSubscription:
        """A job ended: finished, failed, canceled or stopped (``event.attribute_value``)."""
        return self._shorthand(
            callback, broadcast=broadcast, entity_type=EntityType.JOB, operation=Operation.UPDATE,
            attribute_name="status", predicate=lambda event: event.attribute_value in JOB_END_STATUSES,
        )  # fmt: skip

    def on_release_deployed(self, callback: Callback, *, broadcast: bool = False) -> EventSubscription:
        """A release of an app of this tenant became active."""
        return self._shorthand(
            callback,
            broadcast=broadcast,
            entity_type=EntityType.APP,
            operation=Operation.UPDATE,
            attribute_name="active_release",
        )

    def on_custom_event(self, name: str, callback: Callback, *, broadcast: bool = False) -> EventSubscription:
        """Events sent with ``emit_event(name, ...)`` (entity type ``custom``, entity id ``name``)."""
        return self._add(callback, entity_type=EntityType.CUSTOM, entity_id=str(name), broadcast=broadcast)

    def start(self) -> None:
        """Taipy's processors are started; ours run as soon as the release is active."""

    def stop(self) -> None:
        """Drop every subscription of this processor (for tests)."""
        self.subscriptions.clear()

    def _shorthand(
        self,
        callback: Callback,
        *,
        broadcast: bool,
        entity_type: Any,
        operation: Any,
        attribute_name: str | None = None,
        predicate: Callable[[Event], bool] | None = None,
    ) -> EventSubscription:
        return self._add(callback, entity_type=entity_type, operation=operation,
                         attribute_name=attribute_name, predicate=predicate, broadcast=broadcast)  # fmt: skip

    def _add(
        self,
        callback: Callback,
        *,
        callback_args: Sequence[Any] | None = None,
        entity_type: Any = None,
        entity_id: Any = None,
        operation: Any = None,
        attribute_name: str | None = None,
        predicate: Callable[[Event], bool] | None = None,
        broadcast: bool,
    ) -> EventSubscription:
        if not callable(callback):
            raise TypeError(f"{callback!r} is not a function: pass the function to call on the event")
        subscription = EventSubscription(
            callback=callback,
            filter=EventFilter.build(
                entity_type=entity_type,
                entity_id=entity_id,
                operation=operation,
                attribute_name=attribute_name,
                predicate=predicate,
            ),
            callback_args=tuple(callback_args or ()),
            broadcast=broadcast,
        )
        self.subscriptions.append(subscription)
        from dashboards.runtime.loader import hide_from_browser  # noqa: PLC0415

        hide_from_browser(callback)
        return subscription


def subscriptions_of(processors: Sequence[EventProcessor], *, broadcast: bool) -> list[EventSubscription]:
    return [s for p in processors for s in p.subscriptions if s.broadcast is broadcast]
