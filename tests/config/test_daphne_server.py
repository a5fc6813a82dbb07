from __future__ import annotations

import subprocess
import sys

import pytest

from dashboards.config.daphne_server import choose_event_loop
from dashboards.ops.management.commands.run_platform import daphne_command

WHICH_LOOP_DAPHNE_MAKES = """
import sys
from dashboards.config.daphne_server import choose_event_loop
choose_event_loop(sys.argv[1])
import daphne.server
print(type(daphne.server.twisted_loop).__module__)
"""


@pytest.mark.parametrize(("name", "module"), [("uvloop", "uvloop"), ("asyncio", "asyncio.unix_events")])
def test_daphne_makes_its_loop_from_the_policy_chosen_before_it_is_imported(name: str, module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WHICH_LOOP_DAPHNE_MAKES, name],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == module


def test_an_unknown_event_loop_stops_the_server_with_a_clear_message() -> None:
    with pytest.raises(SystemExit, match="DASHBOARDS_EVENT_LOOP must be one of uvloop, asyncio, not 'tokio'"):
        choose_event_loop("tokio")


def test_make_run_starts_daphne_through_the_launcher() -> None:
    command = daphne_command("127.0.0.1", 8000)
    assert command[1:3] == ["-m", "dashboards.config.daphne_server"]
    assert command[-1] == "dashboards.config.asgi:application"
