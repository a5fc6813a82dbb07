"""Helpers for tests that start real processes."""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stack_environment(var_dir: Path, port: int, redis_url: str | None) -> dict[str, str]:
    """The environment `make run` would see on a developer's machine, pointed at a private var/.

    The database is always a fresh SQLite file there (a stack test is about processes, not
    databases); Redis is the embedded one unless the suite runs against an external server.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DASHBOARDS_TESTS_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(VAR_DIR=str(var_dir), PORT=str(port), HOST="127.0.0.1", DEBUG="true", PYTHONUNBUFFERED="1")
    return env


def wait_for_http(url: str, timeout: float, status: int = 200) -> None:
    deadline = time.monotonic() + timeout
    last_error: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == status:
                    return
        except (urllib.error.URLError, OSError) as error:
            last_error = error
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer {status} within {timeout} s (last error: {last_error})")
