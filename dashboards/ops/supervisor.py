"""Runs the platform's processes for ``make run`` and stops every one of them on exit.

Each child gets a session of its own (so a terminal's Ctrl-C reaches only this supervisor, which
then stops them in order) and a parent-death signal (so even a SIGKILL of the supervisor leaves
nothing behind). If any child dies, the whole platform stops: a half-running stack helps no one.
The supervisor is also a child subreaper: a process its children leave behind (RQ's work horse,
which leads a process group of its own; a release's validator whose web process died) becomes
its child instead of init's, and is ended after the rest.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from dashboards.ops.lifelines import die_with_parent

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0
ORPHAN_GRACE_SECONDS = 3.0


class TextOutput(Protocol):
    """Where the supervisor talks to the person at the terminal: a stream or a command's stdout."""

    def write(self, text: str) -> Any: ...


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]


@dataclass
class Supervisor:
    out: TextOutput = field(default_factory=lambda: sys.stdout)
    processes: list[ManagedProcess] = field(default_factory=list)
    stop_requested: bool = False

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        popen = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only calls prctl
        )
        self.processes.append(ManagedProcess(name=name, popen=popen))
        logger.info("started %s (pid %s)", name, popen.pid)
        return popen

    def adopt(self, name: str, popen: subprocess.Popen[bytes]) -> None:
        """Supervise a process started elsewhere (the embedded Redis waits for readiness itself)."""
        self.processes.append(ManagedProcess(name=name, popen=popen))

    def end_orphans(self, grace_seconds: float = ORPHAN_GRACE_SECONDS) -> list[str]:
        """After stop_all: SIGTERM every process still below this one, then SIGKILL; their names.
        Orphans are found only in a subreaper (``lifelines.become_subreaper``)."""
        import psutil  # type: ignore[import-untyped]  # noqa: PLC0415 - only the supervisor needs it

        left = psutil.Process().children(recursive=True)
        names = []
        for process in left:
            try:
                names.append(" ".join(process.cmdline()[:3]) or process.name())
                process.terminate()
            except psutil.Error:
                pass
        _, alive = psutil.wait_procs(left, timeout=grace_seconds)
        for process in alive:
            try:
                process.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=grace_seconds)
        return names

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop_requested = True

    def wait(self) -> int:
        """Block until a stop signal (exit 0) or until a child dies (exit 1)."""
        while not self.stop_requested:
            for process in self.processes:
                code = process.popen.poll()
                if code is not None:
                    print(f"\n{process.name} exited with code {code}; stopping the platform.", file=self.out)
                    return 1
            time.sleep(0.2)
        return 0

    def stop_all(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM in reverse start order (web and workers before Redis), then SIGKILL stragglers."""
        for process in reversed(self.processes):
            self._signal_group(process, signal.SIGTERM)
            deadline = time.monotonic() + grace_seconds
            while process.popen.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            self._signal_group(process, signal.SIGKILL)
            process.popen.wait()
        self.processes.clear()

    @staticmethod
    def _signal_group(process: ManagedProcess, signum: int) -> None:
        # The child leads its own process group: signal the group, so its own children go too.
        try:
            os.killpg(process.popen.pid, signum)
        except ProcessLookupError:
            pass
