"""The bounds of the events system (see docs/events.md)."""

from __future__ import annotations

from dashboards.config.environment import seconds_variable, whole_number_variable

ATTRIBUTE_VALUE_MAX_BYTES = 8 * 1024  # an event says what changed; the database holds the data
METADATA_MAX_BYTES = 4 * 1024
# emit_event calls one run of app code (a handler, a job, a callback) may make; the rest of that
# run's are not sent, with one warning in the app's log. Each event with an on_event subscriber
# is a task on the events queue, which every worker serves: a callback emitting in a loop held
# other tenants' jobs for a minute.
EMITS_PER_RUN = 20
EVENT_LOG_RETENTION_DAYS = whole_number_variable("EVENT_LOG_RETENTION_DAYS", default=30, minimum=1)
# One on_event callback's run on a worker (the tests shorten it).
SUBSCRIBER_TIME_LIMIT_SECONDS = seconds_variable(
    "EVENT_SUBSCRIBER_TIME_LIMIT_SECONDS", default=10.0, minimum=0.1
)
# Each tenant's share of the events queue (dashboards/events/fair_share.py): at most the
# EVENT_TASKS_PER_TENANT variable's tasks of one tenant queued or running at once (default 2, read
# in dashboards/config/environment.py), the rest waiting in order, up to this many; past it a
# task is dropped and logged. One tenant's slow callbacks held every worker, and its floods of
# events queued ahead of every other tenant's.
EVENT_TASKS_WAITING_PER_TENANT = 1000
# A queued or running task's place is freed by the worker that ran it; one whose worker died frees
# itself this long after the task's own time limit.
EVENT_TASK_LEASE_GRACE_SECONDS = 300
GROUP_REJOIN_SECONDS = 60.0  # group memberships vanish when Redis restarts: sockets re-join this often
