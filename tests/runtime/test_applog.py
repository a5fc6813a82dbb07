"""What an app's code prints or logs lands in that app's log, and nothing of the platform's does."""

from __future__ import annotations

import logging
import uuid

from dashboards.runtime.executor import InProcessExecutor

SOURCE = """
import logging
import sys

page = "{% text x %}"


def chatty(state):
    print("to stdout")
    print("to stderr", file=sys.stderr)
    logging.warning("from the root logger")
    logging.getLogger("some.name").error("from a logger of its own name")
    logging.getLogger(__name__).info("from its module logger")
"""


async def test_prints_and_every_logger_of_app_code_reach_its_log_and_the_platforms_do_not() -> None:
    executor = InProcessExecutor()
    app = executor.load(f"applog-{uuid.uuid4().hex[:8]}", {"main.py": SOURCE})

    def handler_and_platform() -> None:
        app.handlers["chatty"](state=None)
        logging.getLogger("dashboards.runtime").warning("the platform's own record")

    outcome = await executor.run_callable(app, handler_and_platform, (), 2.0)
    assert outcome.ok, outcome.error
    assert outcome.output == [
        ("info", "to stdout"),
        ("warning", "to stderr"),
        ("warning", "from the root logger"),
        ("error", "from a logger of its own name"),
        ("info", "from its module logger"),
    ]
    executor.forget(app.key)


def test_outside_a_run_app_records_go_where_they_always_went(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        logging.getLogger("dashboards.runtime").warning("plain")
    assert "plain" in caplog.text
