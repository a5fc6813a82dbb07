"""The image's HEALTHCHECK probes web containers only (its plain request to 127.0.0.1 is answered
whatever ALLOWED_HOSTS says: tests/ops/test_health.py)."""

from __future__ import annotations

from pathlib import Path

from dashboards.ops.container_probe import main_process_is_web


def test_a_container_running_another_command_is_not_probed(tmp_path: Path) -> None:
    web, worker = tmp_path / "web", tmp_path / "worker"
    web.write_bytes(b"python\0-m\0dashboards.config.daphne_server\0--bind\0")
    worker.write_bytes(b"python\0manage.py\0jobs_worker\0")
    assert main_process_is_web(web) and not main_process_is_web(worker)
