"""Links between two tenant-owned rows stay inside one tenant, however they are made.

The services and admin forms check this with a readable message first; this guard catches what
they do not see: ``app.teams.add(team)`` or ``team.members.add(membership)`` in code or a shell.
It does not see data migrations (their historical models send no signal to it) nor rows written to
the through tables directly. A team of another tenant on an app would let its members open the app and
receive its jobs' notices; a member of another tenant on a team would receive the team's.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

LINKED_ACROSS_TENANTS = "{what} must belong to the same tenant: {names} belong to another."


def refuse_links_across_tenants(
    sender: Any, instance: models.Model, action: str, model: type[models.Model], pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:  # fmt: skip
    """m2m_changed receiver: before an add, every row being linked must be of the instance's tenant."""
    if action != "pre_add" or not pk_set:
        return
    tenant_id = instance.tenant_id  # type: ignore[attr-defined]
    strangers = model._base_manager.filter(pk__in=pk_set).exclude(tenant_id=tenant_id)
    if strangers.exists():
        names = ", ".join(sorted(str(row) for row in strangers[:5]))
        these, those = type(instance)._meta.verbose_name_plural, model._meta.verbose_name_plural
        what = f"{these} and {those} linked together"
        raise ValidationError(LINKED_ACROSS_TENANTS.format(what=what.capitalize(), names=names))
