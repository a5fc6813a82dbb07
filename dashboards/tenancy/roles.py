"""Role rules: who may do what inside a tenant, as plain functions."""

from __future__ import annotations

from dashboards.tenancy.models import Role

_RANK = {Role.VIEWER: 1, Role.DEVELOPER: 2, Role.OWNER: 3}


def role_at_least(role: str | None, required: str) -> bool:
    """True when ``role`` includes the rights of ``required`` (owner > developer > viewer)."""
    return role is not None and _RANK[Role(role)] >= _RANK[Role(required)]


def can_open_tenant(role: str | None) -> bool:
    return role_at_least(role, Role.VIEWER)


def can_develop_apps(role: str | None) -> bool:
    return role_at_least(role, Role.DEVELOPER)


def can_manage_members(role: str | None) -> bool:
    return role_at_least(role, Role.OWNER)
