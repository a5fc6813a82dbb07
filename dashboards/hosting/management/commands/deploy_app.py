"""``manage.py deploy_app PATH --tenant acme --app sales``: the admin's deploy, from a terminal or CI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dashboards.hosting import services
from dashboards.hosting.selectors import app_get
from dashboards.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Validate and deploy a release of an app (a .py file, a .zip, or a folder with main.py)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument(
            "--app", required=True, help="The app's slug (created if missing, with --create)."
        )
        parser.add_argument("--name", help="The app's name when --create makes it.")
        parser.add_argument("--create", action="store_true", help="Create the app if it does not exist.")
        parser.add_argument(
            "--no-activate", action="store_true", help="Store and validate, but do not activate."
        )

    def handle(self, *args: Any, path: Path, tenant: str, app: str, **options: Any) -> None:
        tenant_row = Tenant.objects.filter(slug=tenant).first()
        if tenant_row is None:
            raise CommandError(f"No tenant {tenant!r}.")
        app_row = app_get(tenant=tenant_row, slug=app)
        if app_row is None:
            if not options["create"]:
                raise CommandError(f"No app {app!r} in {tenant!r} (use --create to make it).")
            app_row = services.app_create_or_update(tenant=tenant_row, slug=app, name=options["name"] or app)
        try:
            files = self._read(path)
        except (OSError, ValidationError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        release = services.release_create(app=app_row, files=files, author=None)
        problems = release.report.get("problems", [])
        if not release.is_valid:
            for problem in problems:
                where = (
                    f"{problem['file']}:{problem['line']}: "
                    if problem.get("file") and problem.get("line")
                    else ""
                )
                self.stderr.write(f"  {where}{problem['kind']}: {problem['message']}")
            raise CommandError(
                f"{release} is invalid ({len(problems)} problem(s)); it was kept but not activated."
            )
        self.stdout.write(f"{release} is valid: handlers {', '.join(release.handlers) or '(none)'}.")
        if not options["no_activate"]:
            services.release_activate(release=release)
            self.stdout.write(self.style.SUCCESS(f"{release} is active for new sessions."))

    @staticmethod
    def _read(path: Path) -> dict[str, str]:
        if path.is_dir():
            return {
                p.name: p.read_text()
                for p in sorted(path.iterdir())
                if p.suffix == ".py" or p.name == "page.html"
            }
        return services.release_files_from_upload(path.name, path.read_bytes())
