"""``manage.py deploy_app PATH --tenant acme --app sales``: the admin's deploy, from a terminal or CI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dashboards.hosting import services
from dashboards.hosting.selectors import app_get
from dashboards.hosting.uploads import (
    MAX_UPLOAD_BYTES,
    read_file,
    release_files_from_folder,
    release_files_from_upload,
)
from dashboards.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Validate and deploy a release of an app (a .py file, a .zip, or a folder with main.py)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", help="A .py file, a .zip, or a folder with main.py.")
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument(
            "--app", required=True, help="The app's slug (created if missing, with --create)."
        )
        parser.add_argument("--name", help="The app's name when --create makes it.")
        parser.add_argument("--create", action="store_true", help="Create the app if it does not exist.")
        parser.add_argument(
            "--no-activate", action="store_true", help="Store and validate, but do not activate."
        )

    def handle(self, *args: Any, path: str, tenant: str, app: str, **options: Any) -> None:
        tenant_row = Tenant.objects.filter(slug=tenant).first()
        if tenant_row is None:
            raise CommandError(f"No tenant {tenant!r}.")
        app_row = app_get(tenant=tenant_row, slug=app)
        if app_row is None and not options["create"]:
            raise CommandError(f"No app {app!r} in {tenant!r} (use --create to make it).")
        try:
            files = self._read(path)
        except OSError as error:
            raise CommandError(f"Cannot read {error.filename or path}: {error.strerror or error}.") from None
        except ValidationError as error:
            raise CommandError(f"Cannot deploy {path}: {' '.join(error.messages)}") from None
        if app_row is None:  # created only once there is something to deploy into it
            try:
                app_row = services.app_create_or_update(
                    tenant=tenant_row, slug=app, name=options["name"] or app
                )
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
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
        else:
            active = release.app.active_release
            still = f"new sessions still get v{active.version}" if active else "the app has no active release"
            self.stdout.write(f"{release} is not active ({still}): activate it in the admin, on its page.")

    @staticmethod
    def _read(name: str) -> dict[str, str]:
        """The release's files, read as the admin reads an upload (UTF-8 text, the same limits)."""
        if not name.strip():
            raise ValidationError("the path is empty: name a .py file, a .zip, or a folder with main.py.")
        path = Path(name)
        if path.is_dir():
            return release_files_from_folder(path)
        if not path.exists():
            raise ValidationError("there is no such file or folder.")
        if not path.name.lower().endswith((".py", ".zip")):
            raise ValidationError("deploy a .py file, a .zip, or a folder with main.py.")
        return release_files_from_upload(path.name, read_file(path, MAX_UPLOAD_BYTES))
