from __future__ import annotations

import pytest

from dashboards.tenancy.models import Role
from dashboards.tenancy.roles import can_develop_apps, can_manage_members, can_open_tenant, role_at_least


@pytest.mark.parametrize(
    ("role", "opens", "develops", "manages"),
    [
        (Role.OWNER, True, True, True),
        (Role.DEVELOPER, True, True, False),
        (Role.VIEWER, True, False, False),
        (None, False, False, False),
    ],
)
def test_role_matrix(role: str | None, opens: bool, develops: bool, manages: bool) -> None:
    assert can_open_tenant(role) is opens
    assert can_develop_apps(role) is develops
    assert can_manage_members(role) is manages


def test_roles_are_ordered() -> None:
    assert role_at_least(Role.OWNER, Role.VIEWER)
    assert not role_at_least(Role.VIEWER, Role.DEVELOPER)
