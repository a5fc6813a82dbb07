"""The RQ task behind ``EventEmitter(service="rq")``: one emission's subscribers, run on a worker.

The message names the subscribers (``module:name``) the emitting process had at ``emit`` time, so
subscriptions made or removed while the app runs, and ``once``, hold across processes. The
tenant and app come from the release row, never from the message.
"""

from __future__ import annotations

from typing import Any

from dashboards.events.emitter import Delivery, Target, deliver_now
from dashboards.events.task_release import ReleaseUnavailable, task_release
from dashboards.runtime.context import AppContext


def run_emitter_subscribers(message: dict[str, Any], release_id: int) -> dict[str, Any]:
    """What RQ runs: ``release_id`` second, so the worker loads the release before it forks."""
    label = f"emitter {message.get('emitter')}: {message.get('event')!r}"
    try:
        release = task_release(release_id, label=label)
    except ReleaseUnavailable as skipped:
        return {"skipped": str(skipped)}
    app = release.app
    targets, missing = [], []
    for names in message.get("subscribers", []):
        try:
            on_success, on_failure = (app.function(names[k]) if names.get(k) else None
                                      for k in ("on_success", "on_failure"))  # fmt: skip
            targets.append(Target(app.function(names["callback"]), on_success, on_failure))
        except KeyError as error:
            missing.append(("error", f"{label}: subscriber {error.args[0]} is not in this release"))
    context = AppContext(
        tenant_id=release.tenant_id,
        app_id=release.app_id,
        release_id=release.pk,
        package=app.package,
        user_id=message.get("user_id"),
        session_id=str(message.get("session_id") or ""),
        # On a work horse, which ends when this task returns: what its subscribers emit (on an
        # asyncio or threads emitter) is awaited before it does (it was lost).
        process_ends=True,
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
