"""Job tests run a real RQ worker process (``manage.py jobs_worker``) against the real Redis.

The worker shares the test database (a file for SQLite, the test database for PostgreSQL) and
this xdist worker's Redis database, so tests use committed data (``live_world``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from rq import Worker

from tests.support import REPO_ROOT, deploy_test_app

JOBS_LAB_SOURCE = (Path(__file__).parent / "apps" / "jobs_lab.py").read_text()


def database_url() -> str:
    from django.db import connection

    config = connection.settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    host, port = config["HOST"] or "127.0.0.1", config["PORT"] or 5432
    return f"postgres://{config['USER']}{password}@{host}:{port}/{config['NAME']}"


class RunningWorker:
    """One ``jobs_worker`` process; ``kill()`` is a real SIGKILL of it and its work horse."""

    def __init__(self, log_path: Path, extra_env: dict[str, str], name: str | None = None) -> None:
        from django.conf import settings

        self.name = name or f"test-{uuid.uuid4().hex[:8]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DASHBOARDS_TESTS_"))}
        env.update(DEBUG="true", DATABASE_URL=database_url(), REDIS_URL=settings.REDIS_URL,
                   PYTHONUNBUFFERED="1", **extra_env)  # fmt: skip
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "jobs_worker", "--name", self.name],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def wait_registered(self, connection: Any, timeout: float = 30.0) -> RunningWorker:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(w.name == self.name for w in Worker.all(connection=connection)):
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the worker did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def spare_pids(self) -> list[int]:
        """The worker's spare work horse: a child leading a session of its own (RQ's horses and
        scheduler stay in the worker's)."""
        pids = []
        for child in psutil.Process(self.process.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                if child.status() != psutil.STATUS_ZOMBIE and os.getsid(child.pid) == child.pid:
                    pids.append(child.pid)
        return pids

    def kill(self) -> None:
        """SIGKILL the worker and its work horse (which leads a process group of its own)."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        os.killpg(self.process.pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(live_world, redis_client, tmp_path) -> Iterator[Callable[..., RunningWorker]]:
    started: list[RunningWorker] = []

    def start(name: str | None = None, **extra_env: str) -> RunningWorker:
        worker = RunningWorker(tmp_path / f"worker-{len(started)}.log", extra_env, name=name)
        started.append(worker)
        return worker.wait_registered(redis_client)

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def job_worker(start_worker) -> RunningWorker:
    return start_worker()


@pytest.fixture
def jobs_lab(live_world):
    """An app of Acme whose functions run as jobs (see apps/jobs_lab.py); its team: Analysts."""
    return deploy_test_app(live_world.acme, "jobs-lab", JOBS_LAB_SOURCE, name="Jobs lab")


def is_running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not true within {timeout} s")
