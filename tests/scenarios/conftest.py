"""Scenario tests: the jobs tests' real RQ worker, and an app of Acme that uses every SDK function."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jobs.conftest import job_worker, start_worker, wait_for  # noqa: F401 - fixtures
from tests.support import deploy_test_app

SCENARIO_LAB_SOURCE = (Path(__file__).parent / "apps" / "scenario_lab.py").read_text()


def deploy(tenant, slug: str, source: str = SCENARIO_LAB_SOURCE):
    return deploy_test_app(tenant, slug, source)


@pytest.fixture
def scenario_lab(world):
    return deploy(world.acme, "scenario-lab")


@pytest.fixture
def live_scenario_lab(live_world):
    return deploy(live_world.acme, "scenario-lab")
