from __future__ import annotations

import pytest

from dashboards.tenancy.models import Team


@pytest.fixture
def analysts(world) -> Team:
    """Acme's demo team: alice (owner) and avery (viewer); adam is in Acme but not in it."""
    return Team.objects.for_tenant(world.acme).get(name="Analysts")


@pytest.fixture
def operations(world) -> Team:
    """Globex's demo team: greta, gabe and gwen."""
    return Team.objects.for_tenant(world.globex).get(name="Operations")
