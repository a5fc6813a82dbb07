"""The image's HEALTHCHECK asks /healthz with a Host Django accepts, and passes other commands."""

from __future__ import annotations

from pathlib import Path

from django.test import Client

from dashboards.ops.container_probe import main_process_is_web, probe_host


def test_the_probe_sends_a_host_that_django_allows(settings, redis_client, db) -> None:
    settings.ALLOWED_HOSTS = ["dash.example.com", "other.example.com"]
    client = Client()
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 400  # what it once sent
    host = probe_host({"ALLOWED_HOSTS": "dash.example.com, other.example.com"})
    assert host == "dash.example.com"
    assert client.get("/healthz", HTTP_HOST=host).status_code == 200


def test_a_wildcard_or_missing_host_list_still_gives_a_host() -> None:
    assert probe_host({"ALLOWED_HOSTS": ".example.com"}) == "www.example.com"
    assert probe_host({}) == "localhost"


def test_a_container_running_another_command_is_not_probed(tmp_path: Path) -> None:
    web, worker = tmp_path / "web", tmp_path / "worker"
    web.write_bytes(b"python\0-m\0dashboards.config.daphne_server\0--bind\0")
    worker.write_bytes(b"python\0manage.py\0jobs_worker\0")
    assert main_process_is_web(web) and not main_process_is_web(worker)
