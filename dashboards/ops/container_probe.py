"""The container's HEALTHCHECK: ``python -m dashboards.ops.container_probe`` (no Django, no settings).

A web container asks its own ``/healthz`` with a Host header Django accepts (the first of
ALLOWED_HOSTS: a request to 127.0.0.1 with its own address as Host is refused as DisallowedHost,
400, and the container was reported unhealthy). Another command in the same image (a jobs worker)
has no HTTP port: it is reported healthy while it runs, as its process's own exit says otherwise.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

WEB_SERVER_MODULE = "dashboards.config.daphne_server"


def probe_host(environ: Mapping[str, str]) -> str:
    """The Host header to send: the first allowed host (a wildcard entry like .example.com made concrete)."""
    hosts = [host.strip() for host in (environ.get("ALLOWED_HOSTS") or "").split(",") if host.strip()]
    host = hosts[0] if hosts else "localhost"
    return "www" + host if host.startswith(".") else host


def main_process_is_web(cmdline_path: Path = Path("/proc/1/cmdline")) -> bool:
    try:
        return WEB_SERVER_MODULE in cmdline_path.read_bytes().decode(errors="replace")
    except OSError:
        return True  # cannot tell: probe


def main() -> int:
    if not main_process_is_web():
        return 0
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": probe_host(os.environ)}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
