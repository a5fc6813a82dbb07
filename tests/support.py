"""Helpers for tests that start real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[1]


def deploy_test_app(tenant, slug: str, source: str, *, name: str | None = None, **app_fields):
    """Create (or update) an app of the tenant with one valid, active release of ``source``."""
    from dashboards.hosting.services import app_create_or_update, release_activate, release_create

    app = app_create_or_update(tenant=tenant, slug=slug, name=name or slug.replace("-", " ").title())
    for field, value in app_fields.items():  # e.g. handler_timeout_seconds
        setattr(app, field, value)
    if app_fields:
        app.save()
    release = release_create(app=app, files={"main.py": source}, author=None)
    assert release.is_valid, release.report
    release_activate(release=release)
    app.refresh_from_db()
    return app


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


class RunningPlatform:
    """The platform's real processes (Redis, Daphne, an RQ worker) with the demo data, for tests.

    Configured as production is (DEBUG off, collected static files, real 404 pages) but for
    plain HTTP on the loopback.
    """

    def __init__(self, var_dir: Path, redis_url: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = stack_environment(var_dir, self.port, redis_url)
        self.env.update(
            DEBUG="false",
            HTTPS="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECRET_KEY="browser-tests-" + "9c1f0e7a2b6d4c83a5e1f7b2d9c04a6e8b3f5d71",
            STATIC_ROOT=str(var_dir / "static"),
            ALLOW_EMBEDDED_SERVICES="true",  # production settings on SQLite (and the embedded Redis)
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = var_dir / "platform.log"
        self._log: IO[bytes] | None = None

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=self.env, check=True, timeout=120
        )

    def start(self) -> RunningPlatform:
        Path(self.env["VAR_DIR"]).mkdir(parents=True, exist_ok=True)
        self.manage("collectstatic", "--noinput", "-v0")
        self.manage("migrate", "--noinput", "-v0")
        self.manage("seed_demo", "--allow-without-debug")
        apps = Path(__file__).parent / "browser" / "apps"
        # The browser tests' own apps; "drafts" (the lab's code) is redeployed by a test, so no
        # other test sees a new version of an app it has open.
        for slug, name, source in (
            ("lab", "Lab", "lab"),
            ("edges", "Edges", "edges"),
            ("drafts", "Drafts", "lab"),
        ):
            command = ["deploy_app", str(apps / f"{source}.py"), "--tenant", "acme", "--app", slug]
            self.manage(*command, "--create", "--name", name)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_platform", "--port", str(self.port)],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_http(f"{self.url}/healthz", timeout=90)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._log is not None:
            self._log.close()


class RestartableWeb:
    """Redis, the database and one Daphne process that a test can stop (SIGTERM) and start again."""

    def __init__(self, var_dir: Path) -> None:
        from dashboards.ops.embedded_redis import EmbeddedRedis

        self.platform = RunningPlatform(var_dir, None)
        self.redis = EmbeddedRedis(var_dir / "redis")
        self.url = self.platform.url
        self.daphne: subprocess.Popen[bytes] | None = None

    def start(self) -> RestartableWeb:
        Path(self.platform.env["VAR_DIR"]).mkdir(parents=True, exist_ok=True)
        self.redis.start()
        for args in (("collectstatic", "--noinput", "-v0"), ("migrate", "--noinput", "-v0"),
                     ("seed_demo", "--allow-without-debug")):  # fmt: skip
            self.platform.manage(*args)
        return self.start_web()

    def start_web(self) -> RestartableWeb:
        from dashboards.ops.management.commands.run_platform import daphne_command

        log = (Path(self.platform.env["VAR_DIR"]) / "daphne.log").open("ab")
        self.daphne = subprocess.Popen(
            daphne_command("127.0.0.1", self.platform.port), cwd=REPO_ROOT, env=self.platform.env,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()  # the child keeps its own copy
        wait_for_http(f"{self.url}/healthz", timeout=60)
        return self

    def stop_web(self) -> None:
        if self.daphne is not None and self.daphne.poll() is None:
            self.daphne.send_signal(signal.SIGTERM)
            self.daphne.wait(timeout=30)

    def stop(self) -> None:
        self.stop_web()
        self.redis.stop()
