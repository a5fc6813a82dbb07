"""Whole-stack tests: the real processes, started the way `make run` starts them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import redis_is_embedded
from tests.support import REPO_ROOT, free_port, stack_environment, wait_for_http

SUBMIT_A_LONG_JOB = """
from dashboards.hosting.models import App
from dashboards.jobs.services import job_submit
app = App.objects.get(tenant__slug="acme", slug="reports")
job_submit(tenant_id=app.tenant_id, app_id=app.pk, release_id=app.active_release_id, user_id=None,
           session_id="", function="main:build_report", arguments=[600])
"""


@pytest.mark.stack
@pytest.mark.timeout(240)
def test_make_run_starts_answers_and_stops_leaving_nothing(tmp_path: Path, settings) -> None:
    port = free_port()
    env = stack_environment(tmp_path / "var", port, None if redis_is_embedded() else settings.REDIS_URL)
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    output = b""
    try:
        assert make.stdout is not None
        deadline = time.monotonic() + 150
        while b"Press Ctrl-C" not in output and time.monotonic() < deadline and make.poll() is None:
            output += make.stdout.readline()
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as response:
            assert json.load(response)["status"] == "ok"
        family = psutil.Process(make.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in family)
        assert "daphne" in names and "jobs_worker" in names
        assert ("redis-server" in names) is redis_is_embedded()
        if redis_is_embedded():
            assert (tmp_path / "var" / "redis" / "appendonly.aof").exists()
        # A job in flight: its work horse leads a process group of its own, which the worker's
        # stop does not reach; Ctrl-C must end it too.
        subprocess.run([sys.executable, "manage.py", "shell", "-c", SUBMIT_A_LONG_JOB], cwd=REPO_ROOT,
                       env=env, check=True, capture_output=True, timeout=60)  # fmt: skip
        database = sqlite3.connect(tmp_path / "var" / "db.sqlite3")
        deadline = time.monotonic() + 30
        while database.execute("SELECT status FROM jobs_job").fetchone()[0] != "started":
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.2)
        database.close()
        time.sleep(0.5)
        family = psutil.Process(make.pid).children(recursive=True)  # the horse included
        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
        rest, _ = make.communicate(timeout=60)
        output += rest
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
    text = output.decode()
    assert f"http://127.0.0.1:{port}/" in text, text
    assert "alice" in text  # the logins are printed
    assert f"Counter and greeting of Globex Inc: http://127.0.0.1:{port}/l/" in text  # and the shared link
    assert "Stopped." in text
    time.sleep(0.5)
    leftovers = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert leftovers == []


@pytest.mark.timeout(120)
def test_a_port_in_use_is_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = stack_environment(tmp_path / "var", port, None)
        result = subprocess.run(
            [sys.executable, "manage.py", "run_platform", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.stack
@pytest.mark.timeout(120)
def test_a_killed_supervisor_leaves_no_process_behind(tmp_path: Path, settings) -> None:
    """kill -9 of `make run`'s supervisor: Daphne, the worker and the embedded Redis end with it
    (parent-death signals), so the next `make run` finds its Redis socket free."""
    port = free_port()
    env = stack_environment(tmp_path / "var", port, None if redis_is_embedded() else settings.REDIS_URL)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO_ROOT, env=env, check=True,
                   timeout=120)  # fmt: skip
    for _ in range(2):  # the second start finds everything of the first gone
        supervisor = subprocess.Popen(
            [sys.executable, "manage.py", "run_platform", "--port", str(port)], cwd=REPO_ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=90)
            family = psutil.Process(supervisor.pid).children(recursive=True)
            assert len(family) >= 2
            supervisor.kill()
            supervisor.wait(timeout=10)
            _, alive = psutil.wait_procs(family, timeout=20)
            assert alive == [], [p.cmdline() for p in alive]
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(supervisor.pid, signal.SIGKILL)
