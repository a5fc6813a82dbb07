"""The one function RQ runs: ``run_job(job_id)``. It takes an id, never an object (JSON only)."""

from __future__ import annotations

from typing import Any

from dashboards.jobs.runner import run_job_in_this_process


def run_job(job_id: int) -> dict[str, Any]:
    return run_job_in_this_process(int(job_id))
