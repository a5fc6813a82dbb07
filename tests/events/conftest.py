"""Fixtures of the jobs tests reused here: a real ``jobs_worker`` process serves the events queue too."""

from tests.jobs.conftest import job_worker, start_worker  # noqa: F401 - fixtures, by name
from tests.live.conftest import probe_topic  # noqa: F401 - a fixture, by name
