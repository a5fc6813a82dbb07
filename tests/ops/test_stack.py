"""Whole-stack tests: the real processes, started the way `make run` starts them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import redis_is_embedded
from tests.support import REPO_ROOT, free_port, stack_environment, wait_for_http


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
