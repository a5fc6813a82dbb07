"""What one live page may listen to: its user's inbox, and the topics it names of a tenant of theirs."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from django.contrib.auth import get_user_model

from dashboards.live.topics import MAX_TOPICS_PER_PAGE, TOPIC_NAME, topic_renderer
from dashboards.runtime.groups import inbox_group, login_group, user_group
from dashboards.tenancy.models import Tenant
from dashboards.tenancy.selectors import membership_role, tenant_access_for_user

logger = logging.getLogger(__name__)
#: How far ahead of this server's clock a page's ``since`` may be (another server's clock, a little fast).
SINCE_MAX_AHEAD_SECONDS = 300.0


@dataclass(frozen=True)
class Subscription:
    user_id: int
    tenant: Tenant | None = None
    topics: tuple[str, ...] = ()
    login_key: str | None = field(default=None, repr=False)
    since: float | None = None  # when the page was rendered (epoch seconds): events after it were missed

    @property
    def groups(self) -> list[str]:
        return page_groups(user_id=self.user_id, login_key=self.login_key)


def page_groups(*, user_id: int, login_key: str | None) -> list[str]:
    """A page's groups: its user's toasts and badge, and news of their access and sign-in. They need
    no query, so a page joins them before its access is read (a change after that is then heard)."""
    groups = [inbox_group(user_id), user_group(user_id)]
    if login_key:
        groups.append(login_group(login_key))
    return groups  # topics: through the process's events hub, not a group per page


def parse_query(query_string: bytes) -> tuple[str, list[str], float | None]:
    """(tenant slug, topic names, since) from ``?tenant=acme&topics=jobs,apps&since=1764000000``."""
    # A value holding NUL names nothing (and PostgreSQL would refuse it in a query): dropped.
    query = {k: v[-1] for k, v in parse_qs(query_string.decode("latin-1")).items() if "\x00" not in v[-1]}
    names = [name.strip() for name in query.get("topics", "").split(",") if name.strip()]
    return query.get("tenant", "").strip(), list(dict.fromkeys(names)), parse_since(query.get("since", ""))


def parse_since(value: str) -> float | None:
    """When the page was rendered, in epoch seconds; absent or unusable: None (nothing replayed).

    Only a finite time from 1970 to a little past now is kept: ``nan``, ``inf``, ``1e300`` or a
    negative number would fail the replay's datetime (and so the socket) or mean nothing. An
    unusable value is logged and ignored, so a page with a corrupt URL still gets its live updates.
    """
    if not value:
        return None
    try:
        since = float(value)
    except ValueError:
        since = None
    if since is None or not math.isfinite(since) or not 0 <= since <= time.time() + SINCE_MAX_AHEAD_SECONDS:
        logger.warning(
            "live page: since=%r is not a time it could have been rendered at; ignored", value[:40]
        )
        return None
    return since


def subscription_for(*, user: Any, query_string: bytes, login_key: str | None) -> Subscription:
    """Unknown topics, other tenants' topics and malformed names are dropped (logged at info)."""
    slug, names, since = parse_query(query_string)
    if not slug or not names:
        return Subscription(user_id=user.pk, login_key=login_key)
    access = tenant_access_for_user(user=user, slug=slug)
    if access is None:
        logger.info("live page of user %s: tenant %r is not theirs; topics ignored", user.pk, slug[:50])
        return Subscription(user_id=user.pk, login_key=login_key)
    known = [name for name in names if TOPIC_NAME.match(name) and topic_renderer(name) is not None]
    if len(known) != len(names):
        logger.info("live page of user %s: unknown topics ignored: %r", user.pk, names[:MAX_TOPICS_PER_PAGE])
    if len(known) > MAX_TOPICS_PER_PAGE:
        logger.info(
            "live page of user %s: more than %d topics, the rest ignored", user.pk, MAX_TOPICS_PER_PAGE
        )
    return Subscription(user_id=user.pk, tenant=access.tenant, topics=tuple(known[:MAX_TOPICS_PER_PAGE]),
                        login_key=login_key, since=since)  # fmt: skip


def topics_missed(*, subscription: Subscription) -> list[str]:
    """Topics changed by logged events since the page was rendered (a reconnect, a slow socket)."""
    from dashboards.events.models import LoggedEvent  # noqa: PLC0415 - events import live topics
    from dashboards.live.topics import entity_types_followed  # noqa: PLC0415

    if subscription.tenant is None or not subscription.topics or subscription.since is None:
        return []
    since = datetime.fromtimestamp(subscription.since, tz=UTC)
    types = set(
        LoggedEvent.objects.for_tenant(subscription.tenant)
        .filter(created_at__gte=since, entity_type__in=entity_types_followed(subscription.topics))
        .values_list("entity_type", flat=True)
        .distinct()[:20]
    )
    return [topic for topic in subscription.topics if entity_types_followed((topic,)) & types]


def member_now(*, subscription: Subscription) -> Any | None:
    """The user as they are now, read when their access changes; None once the page's tenant is
    no longer theirs (its topics must stop). The page's renders then judge this user, not the one
    read at connect: a superuser demoted, say, no longer gets rows only superusers see."""
    user = get_user_model().objects.filter(pk=subscription.user_id, is_active=True).first()
    if user is None:
        return None
    if subscription.tenant is not None and membership_role(user=user, tenant=subscription.tenant) is None:
        return None
    return user
