"""A test app whose functions run as jobs: they count, fail, sleep, retry and return too much."""

import os
import time
from pathlib import Path

from dashboards.sdk import invoke_long_callback, notify, notify_team, progress

initial_state = {"status": "", "result": None, "ticks": 0, "fraction": 0.0, "message": ""}
page = """
{% text status id="status" %}
{% progress fraction id="bar" %}
{% text message id="message" %}
{% text result id="result" %}
"""


def crunch(n, pause=0.0):
    total = 0
    for step in range(n):
        total += step
        if pause:
            time.sleep(pause)
        progress((step + 1) / n, f"step {step + 1} of {n}")
    print("crunched", n)
    return {"total": total}


def explode(message):
    raise ValueError(message)


def sleepy(seconds):
    time.sleep(seconds)
    return "woke"


def whoami():
    return os.getpid()


def sleep_here(seconds, pid_file):
    """Sleeps after noting which process runs it (the test compares it to the spare work horse)."""
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
    return "woke"


def flaky(marker):
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise RuntimeError("the first attempt fails")
    return "second time lucky"


def huge():
    return "x" * 300_000


def chatty(lines):
    for n in range(lines):
        print("line", n)
    return "said it all"


def leaves():
    import sys

    sys.exit(3)


def stubborn(seconds):
    """Catches the timeout, as ``except Exception`` in app code does, and carries on."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            time.sleep(0.05)
        except Exception:  # noqa: S110 - the point: what careless app code does
            pass
    return "survived"


def nul_result():
    return {"text": "a\x00b"}


def tell_team(team):
    notify_team(team, "info", "a message from a job")
    return "told"


FUNCTIONS = {"crunch": crunch, "explode": explode, "sleepy": sleepy, "flaky": flaky, "huge": huge,
             "tell_team": tell_team}  # fmt: skip


def on_status(state, status, result, error=None):
    if isinstance(status, bool):
        state.status = "done" if status else "failed"
        state.result = result
        notify(
            state, "success" if status else "error", f"job {state.status}" + (f": {error}" if error else "")
        )
    else:
        state.ticks = int(status)
        state.fraction = status.fraction or 0.0
        state.message = status.message
        state.status = "running"


def slow_status(state, status, result):
    """A status function slower than the job's reports: they must not pile up in the tab."""
    time.sleep(0.2)
    on_status(state, status, result)
    if not isinstance(status, bool):
        state.runs = (state.runs or 0) + 1


def quiet_status(state, status, result):
    """Shows the end in the page, with no toast of its own."""
    if isinstance(status, bool):
        state.status = "done quietly" if status else "failed quietly"


def start(state, payload):
    status_function = slow_status if payload.get("slow") else on_status
    invoke_long_callback(
        state,
        FUNCTIONS[payload["fn"]],
        payload.get("args", []),
        quiet_status if payload.get("quiet") else status_function,
        period=payload.get("period", 0),
        timeout=payload.get("timeout"),
        retries=payload.get("retries", 0),
        title=payload.get("title"),
    )
    state.status = "submitted"


def start_bad_arguments(state):
    invoke_long_callback(state, crunch, [object()])


def start_then_fail(state):
    invoke_long_callback(state, crunch, [1])
    raise RuntimeError("the handler fails after asking for a job")
