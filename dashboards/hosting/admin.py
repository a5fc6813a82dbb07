from __future__ import annotations

import contextvars
import difflib
import re
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from dashboards.hosting import services, uploads
from dashboards.hosting.models import (
    App,
    AppAccess,
    AppLogEntry,
    AppQuerySet,
    AppRelease,
    AppReleaseQuerySet,
    ReleaseStatus,
)
from dashboards.hosting.selectors import app_log, release_list
from dashboards.tenancy.admin_scoping import (
    VIEW_ROLES,
    DeletesWhatItHolds,
    TenantFilter,
    TenantScopedAdmin,
    UniqueWithinTenantForm,
)
from dashboards.tenancy.models import Team

# The release page's diff. difflib's cost grows with the cube of the lines it compares when lines
# repeat just under its "popular" threshold (1% of the file): two versions of 10,000 lines took
# 26 s a page view, on the thread every admin page and /healthz share. At 2,000 lines a version it
# is 0.2 s at worst. A file past these limits is named, not compared, and what is shown is cut.
DIFF_MAX_FILE_LINES = 4_000  # both versions of one file together
DIFF_MAX_FILE_BYTES = 512 * 1024  # both versions of one file together
DIFF_MAX_TOTAL_LINES = 12_000  # compared on one page, all files together
DIFF_MAX_OUTPUT_LINES = 5_000  # shown on one page
# The release page's source: a release at its size limit was a 105 MiB page.
SOURCE_SHOWN_LINES = 20_000  # all files together
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
ACTIVATE_BUTTON = "Activate this release"
LOG_POLL_STOP = 286  # htmx stops polling an element whose answer has this status

# The version the release page compares with (?compare=N), for the request being answered.
_compare_version: contextvars.ContextVar[int | None] = contextvars.ContextVar("compare_version", default=None)
# The release the Add form starts from (the active release of ?app=ID), for the request being answered.
_deploy_base: contextvars.ContextVar[AppRelease | None] = contextvars.ContextVar("deploy_base", default=None)
# The app whose form is being built (None: a new app), for its choices of teams.
_form_app: contextvars.ContextVar[App | None] = contextvars.ContextVar("form_app", default=None)
# The request an app's page answers: its shared link is shown as a full address built from it.
_page_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "page_request", default=None
)


class AppForm(UniqueWithinTenantForm):
    class Meta:
        model = App
        fields = ["tenant", "slug", "name", "description", "access", "teams", "handler_timeout_seconds"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tenant = cleaned.get("tenant") or (self.instance.tenant if self.instance.tenant_id else None)
        strangers = sorted(
            team.name for team in cleaned.get("teams") or [] if tenant and team.tenant_id != tenant.pk
        )
        if strangers:
            self.add_error(
                "teams",
                f"An app's teams must belong to the app's tenant ({tenant}): {', '.join(strangers)} "
                "does not.",
            )
        return cleaned


@admin.register(App)
class AppAdmin(DeletesWhatItHolds, TenantScopedAdmin):
    edit_roles = VIEW_ROLES  # owners and developers deploy and edit apps
    form = AppForm
    list_display = ["name", "slug", "tenant", "access", "active_version", "links"]
    list_filter = [TenantFilter, "access"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["teams"]
    actions = ["roll_back", "reset_link"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[App]:
        # One query for the list, not one per app for its release (files and report left out).
        return cast(AppQuerySet, super().get_queryset(request)).with_active_release()

    def get_readonly_fields(self, request: HttpRequest, obj: App | None = None) -> list[str]:
        # An app never moves: its releases, log and jobs stay in the tenant it was made in.
        return ["tenant", "shared_link"] if obj else []

    class Media:
        js = ["js/copy-link.js"]  # the shared link's Copy button (a file: the CSP runs no inline script)

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:  # fmt: skip
        """Rendered here, while ``_page_request`` holds the request (a TemplateResponse renders
        after the view returns): the shared link is built from the address the page was asked at."""
        token = _page_request.set(request)
        try:
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()
            return response
        finally:
            _page_request.reset(token)

    @admin.display(description="Shared link")
    def shared_link(self, app: App) -> SafeString:
        """The full address, to copy and send: a path (``/l/...``) means nothing in an e-mail."""
        if app.access != AppAccess.LINK:
            return format_html(
                '<span class="help">{}</span>', 'Choose "Anyone with the link" as access to share it.'
            )
        path = reverse("app_link_page", args=[app.link_token])
        request = _page_request.get()
        url = request.build_absolute_uri(path) if request is not None else path
        return format_html(
            '<div><a href="{}" id="shared-link-url" data-testid="shared-link">{}</a> '
            '<button type="button" data-copy="#shared-link-url">Copy link</button> '
            '<span data-copy-status role="status"></span></div>'
            '<div class="help">Anyone who has it opens the app, signed in or not. '
            '<em>Reset the shared link</em> (an action of the app list) ends it.</div>',
            url, url,
        )  # fmt: skip

    @admin.action(description="Reset the shared link")
    def reset_link(self, request: HttpRequest, queryset: QuerySet[App]) -> None:
        for app in queryset:
            services.app_reset_link(app=app)
        self.message_user(request, f"New links for {len(queryset)} app(s): the old ones no longer open them.")

    def get_form(
        self, request: HttpRequest, obj: App | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        token = _form_app.set(obj)
        try:
            return super().get_form(request, obj, change=change, **kwargs)
        finally:
            _form_app.reset(token)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "handler_timeout_seconds":
            kwargs["min_value"] = 1  # the model's own floor: -1 said "at least 0", then 0 "at least 1"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        app = _form_app.get()
        if db_field.name == "teams" and app is not None:
            # An app's own tenant's teams only (a new app's tenant is chosen on the same form: the
            # form's clean and app_set_teams refuse teams of another tenant).
            kwargs["queryset"] = Team.objects.for_tenant(app.tenant_id)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if "teams" in form.cleaned_data:
            services.app_set_teams(app=form.instance, teams=form.cleaned_data["teams"])
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.display(description="Active release")
    def active_version(self, app: App) -> str:
        return f"v{app.active_release.version}" if app.active_release else "-"

    @admin.display(description="Links")
    def links(self, app: App) -> SafeString:
        deploy = reverse("admin:hosting_apprelease_add") + f"?app={app.pk}"
        log = reverse("admin:hosting_app_log", args=[app.pk])
        return format_html('<a href="{}">Deploy a release</a> · <a href="{}">Log</a>', deploy, log)

    @admin.action(description="Roll back to the previous release")
    def roll_back(self, request: HttpRequest, queryset: QuerySet[App]) -> None:
        for app in queryset:
            try:
                release = services.app_rollback(app=app, actor=request.user)
            except ValidationError as error:
                self.message_user(request, error.messages[0], messages.ERROR)
            else:
                self.message_user(request, f"{app} is back on v{release.version}.", messages.SUCCESS)

    def get_urls(self) -> list[Any]:
        return [
            path("<int:app_id>/log/", self.log_poll_or_view, name="hosting_app_log"),
            *super().get_urls(),
        ]

    def log_poll_or_view(self, request: HttpRequest, app_id: int) -> HttpResponse:
        """The page's own refresh, once signed out: a line that says so, and 286, which stops
        htmx's polling. The admin's sign-in redirect was followed, and its whole login page
        swapped into the log's table, every two seconds."""
        if request.headers.get("HX-Request") and not self.admin_site.has_permission(request):
            login = f"{reverse('admin:login')}?{urlencode({'next': request.path})}"
            return HttpResponse(format_html(
                '<p class="errornote">You are signed out, so this log no longer refreshes. '
                '<a href="{}">Sign in again</a></p>', login,
            ), status=LOG_POLL_STOP)  # fmt: skip
        return self.admin_site.admin_view(self.log_view)(request, app_id)

    def log_view(self, request: HttpRequest, app_id: int) -> HttpResponse:
        """The app's own log, newest first; the table refreshes itself every two seconds."""
        app = self.get_queryset(request).filter(pk=app_id).first()
        if app is None and request.headers.get("HX-Request"):  # access taken away meanwhile
            return HttpResponse(
                '<p class="errornote">You no longer have access to this app, so its log no longer '
                "refreshes.</p>",
                status=LOG_POLL_STOP,
            )
        if app is None:
            raise Http404("No such app.")
        context = {**self.admin_site.each_context(request), "app": app, "entries": app_log(app=app),
                   "opts": self.model._meta, "title": f"Log of {app}"}  # fmt: skip
        if request.headers.get("HX-Request"):
            return render(request, "admin/hosting/app_log_rows.html", context)
        return render(request, "admin/hosting/app_log.html", context)


class ReleaseForm(forms.ModelForm):
    source = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"}),
        help_text="Paste main.py here, or upload a file below.",
        strip=False,  # kept as pasted: the active source, edited and saved, differs by the edit alone
    )  # fmt: skip
    upload = forms.FileField(
        required=False,
        help_text="A .py file (becomes main.py), or a .zip with main.py, its modules and page.html.",
    )
    activate = forms.BooleanField(
        required=False, initial=True, help_text="Make it active at once if it is valid."
    )

    class Meta:
        model = AppRelease
        fields = ["app"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload, source = cleaned.get("upload"), cleaned.get("source", "")
        if upload:
            if not upload.name.lower().endswith((".py", ".zip")):
                raise ValidationError("Upload a .py or a .zip file.")
            if upload.size > uploads.MAX_UPLOAD_BYTES:  # refused before it is read into memory
                raise ValidationError(
                    f"{upload.name} is larger than {uploads.MAX_UPLOAD_BYTES // (1024 * 1024)} MiB."
                )
            cleaned["files"] = uploads.release_files_from_upload(upload.name, upload.read())
        elif source.strip():
            cleaned["files"] = uploads.release_files_from_text(source)
        elif "upload" not in self.errors:  # an empty file was given: its field says so, once
            raise ValidationError("Paste the source or upload a file.")
        return cleaned


@admin.register(AppRelease)
class AppReleaseAdmin(TenantScopedAdmin):
    edit_roles = VIEW_ROLES
    form = ReleaseForm
    list_display = ["__str__", "tenant", "status", "is_active", "author", "created_at"]
    list_filter = [TenantFilter, "status"]
    search_fields = ["app__name", "app__slug"]
    actions = ["activate"]
    readonly_fields = ["app", "version", "status", "author", "created_at", "activated_at", "report_display",
                       "handlers", "state_keys", "source_display", "diff_display"]  # fmt: skip

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if obj is None:
            return ["app", "source", "upload", "activate"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: AppRelease | None = None) -> list[str]:
        return list(self.readonly_fields) if obj else []

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = {"app": request.GET.get("app")}
        active = _deploy_base.get()
        # Pasted source becomes main.py alone: only a release of main.py alone is filled in (a
        # release of several files is offered as a .zip to upload, by the template's note).
        if active is not None and set(active.files) == {"main.py"}:
            initial["source"] = active.files["main.py"]  # edit a handler: edit, then save
        return initial

    def _active_release_of_app_in_query(self, request: HttpRequest) -> AppRelease | None:
        """The active release of ``?app=ID``, among the apps the form offers this user (the same
        scoping path: another tenant's app, or an odd id, is no app)."""
        app_id = request.GET.get("app", "")
        if not (app_id.isdecimal() and len(app_id) <= 18):
            return None
        app = self._scoped_choices(AppRelease._meta.get_field("app"), request).filter(pk=int(app_id)).first()
        return cast(App, app).active_release if app is not None else None

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        active = self._active_release_of_app_in_query(request) if request.method == "GET" else None
        # One button: a saved release always opens its own page (its report, Activate), so "Save
        # and add another" and "Save and continue" would only have done what "Save" does.
        extra_context = {**(extra_context or {}), "active_release": active,
                         "show_save_and_add_another": False, "show_save_and_continue": False}  # fmt: skip
        if active is not None:
            extra_context["active_release_files"] = sorted(active.files)
        token = _deploy_base.set(active)
        try:
            return super().add_view(request, form_url, extra_context)
        finally:
            _deploy_base.reset(token)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AppRelease]:
        # The list shows none of a release's files or report; a release's page reads them when shown.
        releases = cast(AppReleaseQuerySet, super().get_queryset(request))
        return releases.select_related("app", "tenant", "author").without_body()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # releases are immutable: deploy a new one

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> Any:
        if object_id is None and request.method == "POST":
            # A deploy, outside the transaction Django opens around a form's POST: the validation
            # (a child process, up to VALIDATION_TIMEOUT_SECONDS) would hold SQLite's write lock
            # for the whole platform. release_create validates first, then stores the release in a
            # short transaction of its own; activating it is another.
            return self._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[attr-defined]
        return super().changeform_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # kept for history, rollback and the diff

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """The app choices name their tenant: two tenants' apps may share a name (both demos'
        counters do), and a developer of both, or a superuser, deployed into the wrong one."""
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "app" and field is not None:
            field.queryset = field.queryset.select_related("tenant")
            field.label_from_instance = app_with_tenant
        return field

    def save_model(self, request: HttpRequest, obj: AppRelease, form: Any, change: bool) -> None:
        release = services.release_create(app=obj.app, files=form.cleaned_data["files"], author=request.user)
        obj.pk, obj.version = release.pk, release.version  # what the admin's history names it by
        if not release.is_valid:
            self.message_user(
                request,
                f"{release} is saved but invalid: see its report below. It can never be activated: fix "
                "the source and deploy a new release.",
                messages.ERROR,
            )
        elif form.cleaned_data.get("activate"):
            services.release_activate(release=release, actor=request.user)
            self.message_user(
                request, f"{release} is valid and now active for new sessions.", messages.SUCCESS
            )
        else:
            active_id = obj.app.active_release_id
            releases = release_list(app=obj.app).filter(pk=active_id) if active_id else None
            version = releases.values_list("version", flat=True).first() if releases is not None else None
            now = f"new sessions still get v{version}" if version else "the app has no active release yet"
            self.message_user(
                request,
                f'{release} is valid and saved, but not active: {now}. Press "{ACTIVATE_BUTTON}" on '
                "this page to make it active.",
                messages.WARNING,
            )

    def response_add(
        self, request: HttpRequest, obj: AppRelease, post_url_continue: str | None = None
    ) -> Any:
        return redirect(reverse("admin:hosting_apprelease_change", args=[obj.pk]))

    @admin.action(description="Activate the selected release", permissions=["activate"])
    def activate(self, request: HttpRequest, queryset: QuerySet[AppRelease]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one release to activate.", messages.ERROR)
            return
        self._activate(request, queryset.get())

    def has_activate_permission(self, request: HttpRequest, obj: AppRelease | None = None) -> bool:
        """Who may activate: the list's action and the release page's button both ask this."""
        return self._allowed(request, obj, self.editable_tenants(request))

    def activate_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The release page's "Activate this release" button (a POST; the admin checks its CSRF
        token). The release is found through the admin's queryset: another tenant's is a 404."""
        release = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_activate_permission(request, release):
            raise PermissionDenied
        self._activate(request, release)
        return redirect(reverse("admin:hosting_apprelease_change", args=[release.pk]))

    def _activate(self, request: HttpRequest, release: AppRelease) -> None:
        if release.app.active_release_id == release.pk:
            self.message_user(request, f"{release} is already the active release.", messages.INFO)
            return
        try:
            services.release_activate(release=release, actor=request.user)
        except ValidationError as error:
            self.message_user(request, error.messages[0], messages.ERROR)
        else:
            self.message_user(request, f"{release} is now active for new sessions.", messages.SUCCESS)

    def download_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """A release's files as a .zip, the form the Add page's upload takes back (a release of
        several files cannot be pasted: the source box becomes main.py alone)."""
        release = get_object_or_404(self.get_queryset(request), pk=object_id)
        name = f"{release.app.slug}-v{release.version}"
        archive = uploads.release_archive(files=release.files, folder=name)
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
        return response

    def get_urls(self) -> list[Any]:
        return [
            path("<int:object_id>/activate/", self.admin_site.admin_view(require_POST(self.activate_view)),
                 name="hosting_apprelease_activate"),
            path("<int:object_id>/download/", self.admin_site.admin_view(self.download_view),
                 name="hosting_apprelease_download"),
            *super().get_urls(),
        ]  # fmt: skip

    @admin.display(boolean=True, description="Active")
    def is_active(self, release: AppRelease) -> bool:
        return release.app.active_release_id == release.pk

    @admin.display(description="Validation report")
    def report_display(self, release: AppRelease) -> SafeString:
        problems = release.report.get("problems", [])
        if not problems:
            return SafeString('<strong style="color:#1d7a46">Valid.</strong>')
        rows = format_html_join(
            "", "<li><code>{}</code> {}{}</li>",
            ((p["kind"], f"{p['file']}:{p['line']} " if p.get("file") and p.get("line") else "", p["message"])
             for p in problems),
        )  # fmt: skip
        return format_html('<ul class="release-problems">{}</ul>', rows)

    @admin.display(description="Source")
    def source_display(self, release: AppRelease) -> SafeString:
        # Each line's number is its data-line attribute, drawn by the stylesheet (release.css) as
        # generated content: a copy of the source brings no numbers.
        blocks, budget = [], SOURCE_SHOWN_LINES
        for name, text in sorted(release.files.items()):
            lines = source_lines(text)
            shown = format_html_join(
                "\n", '<span class="line" data-line="{}">{}</span>', enumerate(lines[:budget], 1)
            )
            if len(lines) > budget:
                left_out = len(lines) - budget
                shown = format_html(
                    '{}\n<span class="left-out">… {} more lines not shown (the page shows {})</span>',
                    shown, f"{left_out:,}", f"{SOURCE_SHOWN_LINES:,}",
                )  # fmt: skip
            budget = max(0, budget - len(lines))
            blocks.append((name, shown))
        return format_html_join("", '<h3>{}</h3><pre class="release-source">{}</pre>', blocks)

    @admin.display(description="Changes")
    def diff_display(self, release: AppRelease) -> SafeString:
        others = release_list(app=release.app).exclude(pk=release.pk)
        request_compare = _compare_version.get()
        base = others.filter(version=request_compare).first() if request_compare else None
        # Unless asked: against the live release (what activating this one would change); for the
        # live one, against the release live before it (what it changed when it went live: a
        # draft never activated in between changed nothing for users); else the last valid one
        # before it, else any before it.
        active_id = release.app.active_release_id
        if base is None and active_id and active_id != release.pk:
            base = others.filter(pk=active_id).first()
        # The release live before this one is asked for only when it may be the base or name it:
        # no base yet, or a base asked for (?compare=) that went live before this one did.
        live_before = None
        if release.activated_at and (
            base is None
            or (base.pk != active_id and base.activated_at and base.activated_at < release.activated_at)
        ):
            earlier = others.filter(activated_at__lt=release.activated_at)
            live_before = earlier.order_by("-activated_at").first()
        base = (
            base
            or live_before
            or others.filter(version__lt=release.version, status=ReleaseStatus.VALID).first()
            or others.filter(version__lt=release.version).first()
        )
        if base is None:
            return SafeString("<p>The first release of this app.</p>")
        notes, lines = release_diff(base, release)
        versions = others.values_list("version", flat=True)  # not every release's source
        choices = format_html_join(" ", '<a href="?compare={}">v{}</a>', ((v, v) for v in versions))
        which = (
            " (the active release)" if base.pk == active_id
            else " (the release live before it)" if base == live_before
            else "" if base.is_valid else " (invalid)"
        )  # fmt: skip
        return format_html(
            "<p>Compared with v{}{} · compare with: {}</p>{}<pre>{}</pre>", base.version, which, choices,
            format_html_join("", "<p>{}</p>", ((note,) for note in notes)), "\n".join(lines) or "(no change)",
        )  # fmt: skip

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        compare = request.GET.get("compare", "")
        token = _compare_version.set(int(compare) if compare.isascii() and compare.isdigit() else None)
        release = self.get_object(request, object_id)
        if release is not None:  # the Activate button: on a valid release not active, for who may
            extra_context = {**(extra_context or {}), "can_activate": (
                release.is_valid and release.app.active_release_id != release.pk
                and self.has_activate_permission(request, release)
            ), "activate_button": ACTIVATE_BUTTON}  # fmt: skip
        try:
            response = super().change_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()  # the diff is built while rendering: now, while the version is set
            return response
        finally:
            _compare_version.reset(token)


def app_with_tenant(app: App) -> str:
    return f"{app.name} ({app.tenant.name})"


def source_lines(text: str) -> list[str]:
    """The lines as Python numbers them (``str.splitlines`` also breaks at a form feed and
    U+2028, so the page's numbers disagreed with the report's)."""
    lines = _LINE_BREAK.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def release_diff(base: AppRelease, release: AppRelease) -> tuple[list[str], list[str]]:
    """Notes on files left out, and the unified diff of the others, within the DIFF_MAX_* limits."""
    notes: list[str] = []
    lines: list[str] = []
    budget = DIFF_MAX_TOTAL_LINES
    for name in sorted(set(base.files) | set(release.files)):
        old, new = base.files.get(name, ""), release.files.get(name, "")
        if old == new:
            continue
        old_lines, new_lines = source_lines(old), source_lines(new)
        count = len(old_lines) + len(new_lines)
        size = len(old.encode(errors="replace")) + len(new.encode(errors="replace"))
        if count > DIFF_MAX_FILE_LINES or size > DIFF_MAX_FILE_BYTES:
            notes.append(
                f"{name}: too large to compare here: {count:,} lines ({size // 1024:,} KiB) in the two "
                f"versions; the page compares files of up to {DIFF_MAX_FILE_LINES:,} lines and "
                f"{DIFF_MAX_FILE_BYTES // 1024:,} KiB."
            )
            continue
        if count > budget:
            notes.append(
                f"{name}: not compared here: the page compares at most {DIFF_MAX_TOTAL_LINES:,} lines in all."
            )
            continue
        budget -= count
        lines += difflib.unified_diff(
            old_lines, new_lines, f"v{base.version}/{name}", f"v{release.version}/{name}", lineterm=""
        )
    if len(lines) > DIFF_MAX_OUTPUT_LINES:
        lines = [*lines[:DIFF_MAX_OUTPUT_LINES], f"… {len(lines) - DIFF_MAX_OUTPUT_LINES:,} more lines"]
    return notes, lines


@admin.register(AppLogEntry)
class AppLogEntryAdmin(TenantScopedAdmin):
    edit_roles = frozenset()
    list_display = ["created_at", "app", "level", "short_message"]
    list_filter = [TenantFilter, "level"]
    list_select_related = ["app", "release"]
    search_fields = ["message"]
    # A traceback's files named by the release's version, as on the app's Log page (message_shown).
    fields = ("tenant", "app", "release", "level", "created_at", "message_text")
    readonly_fields = fields

    @admin.display(description="Message")
    def short_message(self, entry: AppLogEntry) -> str:
        return entry.message_shown[:200]

    @admin.display(description="Message")
    def message_text(self, entry: AppLogEntry) -> SafeString:
        return format_html('<pre class="log-message">{}</pre>', entry.message_shown)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
