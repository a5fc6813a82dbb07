"""Fixtures of the jobs tests reused here: a real ``jobs_worker`` process serves the events queue too."""

from tests.jobs.conftest import job_worker, start_worker  # noqa: F401 - fixtures, by name
