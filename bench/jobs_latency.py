"""Long jobs: enqueue-to-start, progress-to-browser, no-op jobs per second, and a 10-step job in a
real browser against a bare reference measured in the same run.

The platform runs as `make run` runs it (production settings, one Daphne, one jobs worker, the
embedded Redis, SQLite); this script submits jobs through the same service the SDK uses, from a
process of its own. Usage: python bench/jobs_latency.py [--jobs 100] [--noop 300] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import commit, machine  # noqa: E402

from tests.support import RunningPlatform, free_port, wait_for_http  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
APP_SOURCE = ROOT / "bench" / "apps" / "jobbench.py"

# Records, for each change of the watched elements, the wall-clock time and the text.
RECORD = """(ids) => {
  window.__seen = [];
  new MutationObserver(() => {
    const at = performance.timeOrigin + performance.now();
    for (const id of ids) {
      const node = document.getElementById(id);
      if (node) window.__seen.push([at, id, node.textContent]);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
CLEAR = "(ids) => ids.forEach((id) => { document.getElementById(id).textContent = ''; })"
CLICK = """(selector) => { window.__clickedAt = performance.timeOrigin + performance.now();
  document.querySelector(selector).click(); }"""


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)

    return {"p50": at(0.5), "p99": at(0.99), "min": round(ordered[0], 2), "n": len(ordered)}


def django_setup(platform: RunningPlatform) -> None:
    os.environ.update(platform.env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dashboards.config.settings"
    import django

    django.setup()


def submit(app: Any, function: str, arguments: list[Any]) -> Any:
    from dashboards.jobs.services import job_submit

    return job_submit(
        tenant_id=app.tenant_id,
        app_id=app.pk,
        release_id=app.active_release_id,
        user_id=None,
        session_id="",
        function=f"main:{function}",
        arguments=arguments,
    )


def wait_finished(job: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == "finished":
            return job
        if job.status in ("failed", "canceled", "stopped"):
            raise RuntimeError(f"job {job.pk} {job.status}: {job.error}")
        time.sleep(0.002)
    raise TimeoutError(f"job {job.pk} did not finish")


def enqueue_to_start(app: Any, count: int) -> dict[str, Any]:
    """From the service call (a row, the quota, RQ's enqueue) to the app's function running."""
    from_submit, from_enqueue, submit_ms = [], [], []
    for _ in range(count):
        time.sleep(0.1)  # an idle worker, waiting on the queue
        before = time.time()
        job = submit(app, "noop", [])
        enqueued = time.time()
        started = wait_finished(job).result
        from_submit.append((started - before) * 1000)
        from_enqueue.append((started - enqueued) * 1000)
        submit_ms.append((enqueued - before) * 1000)
    return {"from_submit_ms": percentiles(from_submit), "from_rq_enqueue_ms": percentiles(from_enqueue),
            "submit_call_ms": percentiles(submit_ms)}  # fmt: skip


def noop_throughput(app: Any, count: int) -> dict[str, Any]:
    from dashboards.jobs.models import Job

    started = time.monotonic()
    ids = [submit(app, "noop", []).pk for _ in range(count)]
    while Job.objects.filter(pk__in=ids, status="finished").count() < count:
        if time.monotonic() - started > 300:
            raise TimeoutError("no-op jobs did not finish")
        time.sleep(0.05)
    seconds = time.monotonic() - started
    return {"jobs": count, "seconds": round(seconds, 2), "jobs_per_second": round(count / seconds, 1)}


def browser_cases(platform: RunningPlatform, reference_url: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=platform.url)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", "adam")
        page.fill("#id_password", "demo-password")
        page.click("button[type=submit]")
        page.wait_for_url("**/t/acme/")
        page.goto("/t/acme/apps/jobbench/")
        page.wait_for_function("() => window.htmx && document.getElementById('connection-status').hidden")
        page.wait_for_timeout(500)

        # progress-to-browser: the job stamps time.time() into each report; the page notes arrival
        page.evaluate(RECORD, ["stamp"])
        page.evaluate(CLICK, "#stamps button")
        page.wait_for_function("() => window.__seen.length && window.__seen.length >= 195", timeout=60_000)
        page.wait_for_timeout(300)
        seen = page.evaluate("window.__seen")
        delays = {}
        for at, _, text in seen:
            if text and text not in delays:
                delays[text] = at - float(text) * 1000
        progress_ms = percentiles(list(delays.values()))

        platform_steps = steps_in_browser(page, "#run button")
        context.close()

        reference = browser.new_context(base_url=reference_url).new_page()
        reference.goto("/")
        reference.wait_for_timeout(300)
        reference_steps = steps_in_browser(reference, "#run")
        browser.close()
    return {"progress_to_browser_ms": progress_ms, "ten_steps": {"platform": platform_steps,
            "reference": reference_steps}}  # fmt: skip


def steps_in_browser(page: Any, button: str, runs: int = 5) -> dict[str, Any]:
    """Click to the first step on screen, and to the result, over a few runs."""
    first, result = [], []
    for _ in range(runs):
        page.evaluate(CLEAR, ["step", "result"])
        page.evaluate(RECORD, ["step", "result"])
        page.evaluate(CLICK, button)
        page.wait_for_function(
            "() => window.__seen.some(([, id, text]) => id === 'result' && text === 'finished')",
            timeout=30_000,
        )
        clicked = page.evaluate("window.__clickedAt")
        seen = page.evaluate("window.__seen")
        first.append(next(at for at, key, text in seen if key == "step" and text == "step 1") - clicked)
        result.append(next(at for at, key, text in seen if key == "result" and text == "finished") - clicked)
        page.wait_for_timeout(300)
    return {"first_progress_ms": percentiles(first), "result_ms": percentiles(result)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--noop", type=int, default=300)
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    port = free_port()
    reference = subprocess.Popen([sys.executable, str(ROOT / "bench" / "reference_jobs.py"), str(port)])
    platform = RunningPlatform(Path(tempfile.mkdtemp(prefix="bench-jobs-")) / "var", None)
    platform.env["JOBS_PER_TENANT"] = "100000"  # the throughput case measures the worker, not the quota
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", timeout=15)
        platform.start()
        platform.manage("deploy_app", str(APP_SOURCE), "--tenant", "acme", "--app", "jobbench", "--create",
                        "--name", "Job bench")  # fmt: skip
        django_setup(platform)
        from dashboards.hosting.models import App

        app = App.objects.get(tenant__slug="acme", slug="jobbench")
        submit(app, "noop", [])  # warm-up: the worker loads the release once
        time.sleep(1)
        results: dict[str, Any] = {"machine": machine(), "commit": commit()}
        results["enqueue_to_start"] = enqueue_to_start(app, options.jobs)
        results.update(browser_cases(platform, f"http://127.0.0.1:{port}"))
        results["noop_throughput_one_worker"] = noop_throughput(app, options.noop)
    finally:
        platform.stop()
        reference.terminate()
        reference.wait()
    text = json.dumps(results, indent=2)
    print(text)
    if options.out:
        options.out.write_text(text)


if __name__ == "__main__":
    main()
