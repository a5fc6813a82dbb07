"""``make run``'s last step: the embedded Redis (when REDIS_URL is unset), Daphne and one RQ worker."""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboards.config.environment import BASE_DIR
from dashboards.ops.demo import demo_links, demo_logins
from dashboards.ops.embedded_redis import EmbeddedRedis
from dashboards.ops.lifelines import become_subreaper, die_with_parent
from dashboards.ops.ports import port_is_free
from dashboards.ops.supervisor import Supervisor

READY_TIMEOUT_SECONDS = 60.0


def daphne_command(host: str, port: int) -> list[str]:
    """The launcher adds the WebSocket size limits (dashboards/config/daphne_server.py)."""
    return [
        sys.executable, "-m", "dashboards.config.daphne_server",
        "--bind", host, "--port", str(port),
        "dashboards.config.asgi:application",
    ]  # fmt: skip


def worker_command() -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), "jobs_worker"]


class Command(BaseCommand):
    help = "Start the platform's processes in the foreground; Ctrl-C stops them all."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        if not port_is_free(host, port):
            raise CommandError(
                f"Port {port} on {host} is already in use (another `make run`, or another server). "
                f"Stop it, or choose another port: make run PORT=8001"
            )
        supervisor = Supervisor(out=self.stdout)
        supervisor.install_signal_handlers()
        become_subreaper()  # what the children leave behind becomes ours, for end_orphans
        try:
            if settings.REDIS_IS_EMBEDDED:
                embedded = EmbeddedRedis(settings.VAR_DIR / "redis")
                try:
                    # Its own session (Ctrl-C reaches the supervisor only), and it ends with
                    # the supervisor even when that is killed (kill -9 of `make run`).
                    popen = embedded.start(start_new_session=True, preexec_fn=die_with_parent)
                except RuntimeError as error:
                    raise CommandError(str(error)) from None
                supervisor.adopt("redis", popen)
            supervisor.start("daphne", daphne_command(host, port))
            supervisor.start("rq-worker", worker_command())
            url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"  # an IPv6 address in brackets
            if self._wait_until_healthy(url + "healthz", supervisor):
                self._print_banner(url)
                exit_code = supervisor.wait()
            else:
                exit_code = 0 if supervisor.stop_requested else 1  # Ctrl-C during start-up is no failure
        finally:
            self.stdout.write("Stopping the platform...")
            supervisor.stop_all()
            for name in supervisor.end_orphans():  # a job's work horse, a validator, left behind
                self.stdout.write(f"Stopped a process left behind: {name}")
            self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _wait_until_healthy(self, url: str, supervisor: Supervisor) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline and not supervisor.stop_requested:
            if any(p.popen.poll() is not None for p in supervisor.processes):
                self.stderr.write("A process exited during start-up; see the output above.")
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http URL
                    if response.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.2)
        if not supervisor.stop_requested:
            self.stderr.write(f"The platform did not become healthy within {READY_TIMEOUT_SECONDS:.0f} s.")
        return False

    def _print_banner(self, url: str) -> None:
        lines = ["", f"The dashboard platform is running at {url}", ""]
        logins = demo_logins()
        if logins:
            lines.append("Demo logins (development only):")
            lines += [f"  {login}" for login in logins]
            lines.append("")
        links = demo_links()
        if links:
            lines.append("Shared by link (no sign-in needed):")
            lines += [f"  {name}: {url.rstrip('/')}{path}" for name, path in links]
            lines.append("")
        lines.append("Press Ctrl-C to stop everything.")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
