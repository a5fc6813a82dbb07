"""Demo tenants, people, teams and apps for ``make run``. Idempotent: running it again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from dashboards.hosting.models import App, AppAccess, AppRelease
from dashboards.hosting.services import app_create_or_update, release_activate, release_create
from dashboards.scenarios.models import Scenario
from dashboards.scenarios.services import scenario_create
from dashboards.tenancy import services as tenancy
from dashboards.tenancy.models import Membership, Role, Team, Tenant

DEMO_APPS_DIR = Path(__file__).parent / "demo_apps"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - development only: `seed_demo` refuses to run with DEBUG off


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    people: tuple[tuple[str, str], ...]  # (username, role)
    team: str
    team_members: tuple[str, ...]
    apps: tuple[tuple[str, str, str], ...]  # (slug, name, description)
    team_apps: tuple[str, ...] = ()  # apps whose jobs the team hears about
    link_apps: tuple[str, ...] = ()  # apps shared with anyone who has the link, when first seeded


# Scenarios the demo starts with, per app slug: (name, parameters).
DEMO_SCENARIOS = {
    "planner": (("Baseline", {"growth": 5, "months": 12}), ("Fast growth", {"growth": 12, "months": 6}))
}
DEMO_ADMIN = "admin"
DEMO_TENANTS = (
    DemoTenant(
        slug="acme",
        name="Acme Corp",
        people=(("alice", Role.OWNER), ("adam", Role.DEVELOPER), ("avery", Role.VIEWER)),
        team="Analysts",
        team_members=("alice", "avery"),
        apps=(
            ("counter", "Counter and greeting", "Click a button, type your name: the smallest live app."),
            ("sales", "Sales explorer", "Click a bar of the chart to filter the table; download it as CSV."),
            (
                "reports",
                "Quarterly report",
                "A long job on a worker: live progress, the team told when it ends.",
            ),
            (
                "planner",
                "Planner",
                "Forecast scenarios: parameters, a run on a worker, results for everyone.",
            ),
        ),
        team_apps=("reports",),
    ),
    DemoTenant(
        slug="globex",
        name="Globex Inc",
        people=(
            ("greta", Role.OWNER),
            ("gabe", Role.DEVELOPER),
            ("gwen", Role.VIEWER),
            ("alice", Role.VIEWER),
        ),
        team="Operations",
        team_members=("greta", "gabe", "gwen"),
        apps=(("counter", "Counter and greeting", "Click a button, type your name: the smallest live app."),),
        link_apps=("counter",),
    ),
)


@transaction.atomic
def seed_demo() -> None:
    user_model = get_user_model()
    if not user_model.objects.filter(username=DEMO_ADMIN).exists():
        user_model.objects.create_superuser(DEMO_ADMIN, f"{DEMO_ADMIN}@example.com", DEMO_PASSWORD)
    for spec in DEMO_TENANTS:
        tenant = Tenant.objects.filter(slug=spec.slug).first() or tenancy.tenant_create(
            slug=spec.slug, name=spec.name, actor=tenancy.SYSTEM
        )
        memberships = {}
        for username, role in spec.people:
            user, _ = tenancy.user_get_or_create(
                username=username, email=f"{username}@{spec.slug}.example.com", password=DEMO_PASSWORD
            )
            membership = Membership.objects.for_tenant(tenant).filter(user=user).first()
            if membership is None:
                membership = tenancy.membership_add(tenant=tenant, user=user, role=role, actor=tenancy.SYSTEM)
            memberships[username] = membership
        team = Team.objects.for_tenant(tenant).filter(name=spec.team).first() or tenancy.team_create(
            tenant=tenant,
            name=spec.team,
            members=[memberships[name] for name in spec.team_members],
            actor=tenancy.SYSTEM,
        )
        for slug, name, description in spec.apps:
            # An app seeded before keeps what its developers made of it since (name, description).
            app = App.objects.for_tenant(tenant).filter(slug=slug).first()
            seeded_before = app is not None
            if app is None:
                app = app_create_or_update(tenant=tenant, slug=slug, name=name, description=description)
            if slug in spec.link_apps and not seeded_before:  # a later change of its access is kept
                app.access = AppAccess.LINK
                app.save(update_fields=["access"])
            _seed_release(app, memberships)
            if slug in spec.team_apps and not app.teams.filter(pk=team.pk).exists():
                app.teams.add(team)
            if slug in DEMO_SCENARIOS and not Scenario.objects.for_tenant(tenant).filter(app=app).exists():
                owner = memberships[spec.people[0][0]].user
                for title, parameters in DEMO_SCENARIOS[slug]:
                    scenario_create(tenant_id=tenant.pk, app_id=app.pk, name=title, owner_id=owner.pk,
                                    parameters=parameters, tags=["demo"])  # fmt: skip


def _seed_release(app: App, memberships: dict[str, Membership]) -> None:
    """Deploy the demo's code once; later edits to it become new releases, as deploys would.

    Code some release already holds is not deployed again: a developer who deployed their own
    release of a demo app keeps it active across `make run`s, until the demo's code changes.
    """
    source_path = DEMO_APPS_DIR / f"{app.slug}.py"
    if not source_path.exists():
        return
    files = {"main.py": source_path.read_text()}
    held = AppRelease.objects.for_tenant(app.tenant).filter(app=app).values_list("files", flat=True)
    if any(release_files == files for release_files in held):
        return
    developer = next((m.user for m in memberships.values() if m.role == Role.DEVELOPER), None)
    release = release_create(app=app, files=files, author=developer)
    if release.is_valid:
        release_activate(release=release)


def demo_links() -> list[tuple[str, str]]:
    """(app, path) of the demo apps shared by link, for the start-up banner, while they still are."""
    slugs = {(spec.slug, slug) for spec in DEMO_TENANTS for slug in spec.link_apps}
    shared = App.objects.filter(access=AppAccess.LINK).select_related("tenant")
    return [
        (f"{app.name} of {app.tenant.name}", f"/l/{app.link_token}/")
        for app in shared
        if (app.tenant.slug, app.slug) in slugs
    ]


def demo_logins() -> list[str]:
    """One line per demo account that still exists, for the start-up banner."""
    existing = set(
        get_user_model()
        .objects.filter(username__in=[DEMO_ADMIN, *_demo_usernames()])
        .values_list("username", flat=True)
    )
    lines = []
    if DEMO_ADMIN in existing:
        lines.append(f"{DEMO_ADMIN:<8} / {DEMO_PASSWORD}   platform administrator (all tenants, /admin/)")
    for username in _demo_usernames():
        if username in existing:
            roles = ", ".join(
                f"{Role(role).label.lower()} of {spec.name}"
                for spec in DEMO_TENANTS
                for name, role in spec.people
                if name == username
            )
            lines.append(f"{username:<8} / {DEMO_PASSWORD}   {roles}")
    return lines


def _demo_usernames() -> list[str]:
    return list(dict.fromkeys(username for spec in DEMO_TENANTS for username, _ in spec.people))
