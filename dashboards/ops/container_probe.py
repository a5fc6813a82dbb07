"""The container's HEALTHCHECK: ``python -m dashboards.ops.container_probe`` (no Django, no settings).

A web container asks its own ``http://127.0.0.1:<PORT>/healthz``; Django answers that path
whatever the Host (``dashboards/ops/middleware.py``), so the probe needs no host name. Another
command in the same image (a jobs worker) has no HTTP port: it is reported healthy while it runs,
as its process's own exit says otherwise.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

WEB_SERVER_MODULE = "dashboards.config.daphne_server"


def main_process_is_web(cmdline_path: Path = Path("/proc/1/cmdline")) -> bool:
    try:
        return WEB_SERVER_MODULE in cmdline_path.read_bytes().decode(errors="replace")
    except OSError:
        return True  # cannot tell: probe


def main() -> int:
    if not main_process_is_web():
        return 0
    port = os.environ.get("PORT", "8000")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
