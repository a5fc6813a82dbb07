"""Runs release validation in a child process with a time limit and no platform secrets."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from dashboards.config.environment import BASE_DIR
from dashboards.runtime.limits import VALIDATION_TIMEOUT_SECONDS

REPORT_MARK = "@@REPORT@@"
_reports: dict[str, dict[str, Any]] = {}  # the same files always give the same report
_REPORTS_KEPT = 64


def _child_environment(workdir: str) -> dict[str, str]:
    """Only what Python needs: no SECRET_KEY, DATABASE_URL, REDIS_URL or any other variable."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(BASE_DIR), "HOME": workdir,
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}  # fmt: skip


def validate_release_files(
    files: dict[str, str], *, timeout: float = VALIDATION_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """The validation report: ``ok``, ``problems`` (kind, message, file, line), handlers, state keys."""
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    if digest in _reports:
        return _reports[digest]
    report = _validate(files, timeout)
    transient = any(p["kind"] in ("timeout", "crash") for p in report.get("problems", []))
    if not transient and len(_reports) < _REPORTS_KEPT:
        _reports[digest] = report
    return report


def _validate(files: dict[str, str], timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dashboards-validate-") as workdir:
        try:
            result = subprocess.run(
                [sys.executable, "-s", "-m", "dashboards.hosting.validator"],
                input=json.dumps({"files": files}),
                check=False,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=workdir,
                env=_child_environment(workdir),
            )
        except subprocess.TimeoutExpired:
            return _failed(
                "timeout", f"validation took longer than {timeout:g} s (an import that never ends?)"
            )
    _, mark, report = result.stdout.rpartition(REPORT_MARK)
    if not mark:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        return _failed("crash", f"the validator stopped without a report: {tail[0][:300]}")
    return json.loads(report)


def _failed(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "problems": [{"kind": kind, "message": message, "file": None, "line": None}],
            "handlers": [], "state_keys": []}  # fmt: skip
