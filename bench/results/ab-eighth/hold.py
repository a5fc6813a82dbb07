"""Starts one commit's platform as bench/common.py does, prints where it is, and holds it until
stdin closes. Usage: python hold.py ROOT (a checkout of the commit)."""

from __future__ import annotations

import json
import sys

ROOT = sys.argv[1]
sys.path[:0] = [ROOT + "/bench", ROOT]

from common import Platform  # noqa: E402  (the commit's own bench/common.py)

with Platform() as platform:
    pids = [platform.daphne.pid, platform.redis_process.pid]
    print(json.dumps({"url": platform.url, "pids": pids}), flush=True)
    sys.stdin.read()
