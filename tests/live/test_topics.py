"""The topic registry and ``publish``."""

from __future__ import annotations

import pytest

from dashboards.live import topics
from dashboards.live.subscriptions import parse_query


def test_topic_names_are_checked() -> None:
    for bad in ("", "Jobs", "jobs.all", "1jobs", "x" * 49, "jobs*"):
        with pytest.raises(ValueError):
            topics.register_topic(bad, lambda **_: "")


def test_a_name_is_registered_once(probe_topic) -> None:
    topics.register_topic(probe_topic, topics.topic_renderer(probe_topic))  # the same renderer again is fine
    with pytest.raises(ValueError, match="already registered"):
        topics.register_topic(probe_topic, lambda **_: "")


def test_groups_carry_the_tenant() -> None:
    assert topics.topic_group(tenant_id=3, topic="jobs") == "dashboards.live.3.jobs"


def test_publish_waits_for_the_commit(db, django_capture_on_commit_callbacks, monkeypatch) -> None:
    sent = []
    monkeypatch.setattr(topics, "broadcast", lambda group, message: sent.append((group, message)))
    with django_capture_on_commit_callbacks(execute=True):
        topics.publish(tenant_id=5, topic="jobs", data={"job_id": 9})
        assert sent == []
    assert sent == [
        ("dashboards.live.5.jobs", {"type": "live.changed", "topic": "jobs", "data": {"job_id": 9}})
    ]


def test_the_query_names_a_tenant_and_topics() -> None:
    assert parse_query(b"tenant=acme&topics=jobs,%20apps,jobs,") == ("acme", ["jobs", "apps"])
    assert parse_query(b"") == ("", [])
