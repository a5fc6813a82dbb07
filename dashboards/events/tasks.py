"""The RQ task behind ``EventEmitter(service="rq")``: one emission's subscribers, run on a worker.

The message names the subscribers (``module:name``) the emitting process had at ``emit`` time, so
subscriptions made or removed while the app runs, and ``once``, hold across processes. The
tenant and app come from the release row, never from the message.
"""

from __future__ import annotations

from typing import Any

from dashboards.events.emitter import Delivery, Target, deliver_now
from dashboards.runtime.context import AppContext


def run_emitter_subscribers(message: dict[str, Any], release_id: int) -> dict[str, Any]:
    """What RQ runs: ``release_id`` second, so the worker loads the release before it forks."""
    from dashboards.hosting.models import AppRelease  # noqa: PLC0415 - models load after apps
    from dashboards.hosting.services import app_log_append  # noqa: PLC0415
    from dashboards.runtime.executor import AppLoadError, get_executor  # noqa: PLC0415

    release = AppRelease.objects.filter(pk=release_id).only("pk", "tenant_id", "app_id", "files").first()
    if release is None:
        return {"skipped": "no such release"}
    label = f"emitter {message.get('emitter')}: {message.get('event')!r}"
    try:
        app = get_executor().load(str(release.pk), release.files)
    except AppLoadError as error:
        app_log_append(app_id=release.app_id, tenant_id=release.tenant_id, release_id=release.pk,
                       lines=[("error", f"{label}: the app's code failed to load: {error}")])  # fmt: skip
        return {"skipped": "the release does not load"}
    targets, missing = [], []
    for names in message.get("subscribers", []):
        try:
            targets.append(Target(*(app.function(names[k]) if names.get(k) else None
                                    for k in ("callback", "on_success", "on_failure"))))  # fmt: skip
        except KeyError as error:
            missing.append(("error", f"{label}: subscriber {error.args[0]} is not in this release"))
    context = AppContext(
        tenant_id=release.tenant_id,
        app_id=release.app_id,
        release_id=release.pk,
        package=app.package,
        user_id=message.get("user_id"),
        session_id=str(message.get("session_id") or ""),
    )
    delivery = Delivery(
        label=str(message.get("emitter")),
        event=str(message.get("event")),
        args=tuple(message.get("args", [])),
        kwargs=dict(message.get("kwargs", {})),
        targets=targets,
        time_limit=float(message["time_limit"]),
        debug=bool(message.get("debug")),
        context=context,
        depth=int(message.get("depth", 0)),
        lines=missing,
    )
    runs = deliver_now(delivery)
    return {"ran": len(runs), "failed": sum(not run.ok for run in runs) + len(missing)}
