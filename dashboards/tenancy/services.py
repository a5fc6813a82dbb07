"""Writes of tenancy data. The admin, the commands and the tests all call these functions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from dashboards.tenancy.models import STAFF_ROLES, Membership, Role, Team, Tenant
from dashboards.tenancy.roles import can_manage_members
from dashboards.tenancy.selectors import membership_role


class _System:
    """The actor for trusted callers (seeding, management commands), never for a request."""

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM: Final = _System()
Actor = Any  # a User, or SYSTEM


def _require_owner(*, actor: Actor, tenant: Tenant) -> None:
    if actor is SYSTEM:
        return
    if not can_manage_members(membership_role(user=actor, tenant=tenant)):
        raise PermissionDenied("Only the tenant's owners manage members and teams.")


def tenant_create(*, slug: str, name: str, actor: Actor) -> Tenant:
    if actor is not SYSTEM and not actor.is_superuser:
        raise PermissionDenied("Only platform administrators create tenants.")
    tenant = Tenant(slug=slug, name=name)
    tenant.full_clean()
    tenant.save()
    return tenant


@transaction.atomic
def membership_add(*, tenant: Tenant, user: Any, role: str, actor: Actor) -> Membership:
    _require_owner(actor=actor, tenant=tenant)
    membership = Membership(tenant=tenant, user=user, role=Role(role))
    membership.full_clean()
    membership.save()
    user_sync_staff_flag(user=user)
    return membership


def membership_is_last_owner(*, membership: Membership) -> bool:
    if membership.role != Role.OWNER:
        return False
    others = (
        Membership.objects.for_tenant(membership.tenant).filter(role=Role.OWNER).exclude(pk=membership.pk)
    )
    return not others.exists()


def membership_check_role_change(*, membership: Membership, role: str) -> None:
    """Raise ValidationError when the change would leave the tenant without an owner."""
    if Role(role) != Role.OWNER and membership_is_last_owner(membership=membership):
        raise ValidationError("A tenant keeps at least one owner: make someone else owner first.")


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: Actor) -> Membership:
    _require_owner(actor=actor, tenant=membership.tenant)
    role = Role(role)
    membership_check_role_change(membership=membership, role=role)
    membership.role = role
    membership.save(update_fields=["role"])
    user_sync_staff_flag(user=membership.user)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    _require_owner(actor=actor, tenant=membership.tenant)
    if membership_is_last_owner(membership=membership):
        raise ValidationError("A tenant keeps at least one owner: make someone else owner first.")
    user = membership.user
    membership.delete()
    user_sync_staff_flag(user=user)


def user_sync_staff_flag(*, user: Any) -> None:
    """Owners and developers reach the admin (scoped to their tenants); viewers do not."""
    is_staff = user.is_superuser or user.memberships.filter(role__in=STAFF_ROLES).exists()
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


@transaction.atomic
def team_create(*, tenant: Tenant, name: str, members: Iterable[Membership] = (), actor: Actor) -> Team:
    _require_owner(actor=actor, tenant=tenant)
    team = Team(tenant=tenant, name=name)
    team.full_clean()
    team.save()
    team_set_members(team=team, members=members, actor=actor)
    return team


@transaction.atomic
def team_set_members(*, team: Team, members: Iterable[Membership], actor: Actor) -> Team:
    _require_owner(actor=actor, tenant=team.tenant)
    members = list(members)
    strangers = [m for m in members if m.tenant_id != team.tenant_id]
    if strangers:
        raise ValidationError("A team's members must belong to the team's tenant.")
    team.members.set(members)
    return team


def user_get_or_create(*, username: str, email: str = "", password: str | None = None) -> tuple[Any, bool]:
    """For seeding and owner invitations: an existing account is reused, never overwritten."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    return user, created
