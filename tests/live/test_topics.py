"""The topic registry: names, the entity types a topic follows, the page's query."""

from __future__ import annotations

import pytest

from dashboards.live import topics
from dashboards.live.subscriptions import parse_query


def test_topic_names_are_checked() -> None:
    for bad in ("", "Jobs", "jobs.all", "1jobs", "x" * 49, "jobs*"):
        with pytest.raises(ValueError):
            topics.register_topic(bad, lambda **_: "", entity_types=("job",))


def test_a_topic_follows_known_entity_types_only() -> None:
    with pytest.raises(ValueError, match="unknown entity type 'jobz'"):
        topics.register_topic("jobz", lambda **_: "", entity_types=("jobz",))
    with pytest.raises(ValueError, match="at least one"):
        topics.register_topic("nothing", lambda **_: "", entity_types=())


def test_events_wake_the_topics_that_follow_their_entity_type(probe_topic) -> None:
    from dashboards.events.event import Event

    custom, job = (
        Event(entity_type="custom", operation="update"),
        Event(entity_type="job", operation="update"),
    )
    assert topics.topics_following(custom, (probe_topic, "jobs")) == [probe_topic]
    assert topics.topics_following(job, (probe_topic, "jobs")) == ["jobs"]


def test_a_name_is_registered_once(probe_topic) -> None:
    renderer = topics.topic_renderer(probe_topic)
    topics.register_topic(probe_topic, renderer, entity_types=("custom",))  # the same renderer again is fine
    with pytest.raises(ValueError, match="already registered"):
        topics.register_topic(probe_topic, lambda **_: "", entity_types=("custom",))


def test_the_query_names_a_tenant_and_topics() -> None:
    assert parse_query(b"tenant=acme&topics=jobs,%20apps,jobs,&since=17") == ("acme", ["jobs", "apps"], 17.0)
    assert parse_query(b"since=x") == ("", [], None)
