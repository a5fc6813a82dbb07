"""The one function RQ runs: ``run_job(job_id)``. It takes an id, never an object (JSON only)."""

from __future__ import annotations

from typing import Any

from dashboards.jobs.runner import run_job_in_this_process


def run_job(job_id: int, release_id: int | None = None) -> dict[str, Any]:
    """``release_id`` only lets the worker load the code before it forks; the row is the truth."""
    return run_job_in_this_process(int(job_id))
