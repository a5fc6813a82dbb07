"""The live-topic registry: a fragment renderer per topic, woken by the events it follows.

A platform page names the topics it shows (``/ws/live/?tenant=acme&topics=jobs``). A topic is
registered with the entity types whose events change it. When such an event of the page's
tenant arrives (dashboards.events: emitted after commit, fanned out by each process's hub), the
page runs the topic's renderer for its own user and receives the HTML (out-of-band swaps), which
htmx swaps in. The renderer gets the event (``Event.as_message()``) or ``{}``, which means "you
may have missed events: render all you show" (a reconnect, Redis back after a gap). It reads the
database, the truth: an event is a hint, at most once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from dashboards.events.event import Event, entity_type_of

logger = logging.getLogger(__name__)

# Channel-layer group names allow ASCII letters, digits, "-", "_" and "." (under 100 characters).
TOPIC_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")
MAX_TOPICS_PER_PAGE = 8  # a page names a handful; more is a mistake or an attack on the layer

#: renderer(*, user, tenant, data) -> HTML of out-of-band swaps, or "" for nothing to send.
Renderer = Callable[..., str]
_renderers: dict[str, Renderer] = {}
_entity_types: dict[str, frozenset[str]] = {}


def register_topic(name: str, renderer: Renderer, *, entity_types: tuple[str, ...]) -> None:
    """Called from an app config's ``ready()``; a name is registered once."""
    _check_name(name)
    if name in _renderers and _renderers[name] is not renderer:
        raise ValueError(f"The live topic {name!r} is already registered.")
    followed = frozenset(entity_type_of(entity_type) for entity_type in entity_types)
    if not followed:
        raise ValueError(f"The live topic {name!r} must follow at least one entity type.")
    _renderers[name] = renderer
    _entity_types[name] = followed


def unregister_topic(name: str) -> None:
    """For tests."""
    _renderers.pop(name, None)
    _entity_types.pop(name, None)


def topics_following(event: Event, topics: tuple[str, ...]) -> list[str]:
    """Which of a page's topics this event changes."""
    return [topic for topic in topics if event.entity_type in _entity_types.get(topic, ())]


def entity_types_followed(topics: tuple[str, ...]) -> set[str]:
    return {entity_type for topic in topics for entity_type in _entity_types.get(topic, ())}


def topic_renderer(name: str) -> Renderer | None:
    return _renderers.get(name)


def render_topic(*, topic: str, user: Any, tenant: Any, data: dict[str, Any]) -> str:
    """Run the topic's renderer for one page; a failing renderer costs that page one update."""
    renderer = _renderers.get(topic)
    if renderer is None:
        return ""
    try:
        return renderer(user=user, tenant=tenant, data=data) or ""
    except Exception:
        logger.exception("live topic %s: the renderer failed for user %s", topic, getattr(user, "pk", None))
        return ""


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not TOPIC_NAME.match(name):
        raise ValueError(f"A live topic is named in lowercase letters, digits, '-' and '_': {name!r}.")
