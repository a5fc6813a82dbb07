from __future__ import annotations

import subprocess
import sys

import pytest

from dashboards.config.daphne_server import choose_event_loop, with_platform_limits
from dashboards.ops.management.commands.run_platform import daphne_command

WHICH_LOOP_DAPHNE_MAKES = """
import sys
from dashboards.config.daphne_server import choose_event_loop
choose_event_loop(sys.argv[1])
import daphne.server
print(type(daphne.server.twisted_loop).__module__)
"""

DAPHNE_PARSES_THE_LAUNCHERS_ARGUMENTS = """
from daphne.cli import CommandLineInterface
from dashboards.config.daphne_server import with_platform_limits
options = CommandLineInterface().parser.parse_args(with_platform_limits(["--proxy-headers", "a.b:app"]))
print(options.websocket_max_message_size, options.websocket_max_frame_size, options.websocket_timeout,
      options.application)
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


def test_the_launcher_gives_daphne_the_platforms_websocket_limits() -> None:
    assert with_platform_limits(["--port", "8000", "app:application"]) == [
        "--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536",
        "--websocket_timeout", "-1", "--port", "8000", "app:application",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "given",
    [["--websocket-max-frame-size", "1024"], ["--websocket-max-frame-size=1024"]],
    ids=["separate", "with ="],
)
def test_a_limit_set_on_the_command_line_is_kept(given: list[str]) -> None:
    arguments = with_platform_limits([*given, "app:application"])
    assert arguments == ["--websocket-max-message-size", "65536", "--websocket_timeout", "-1", *given,
                         "app:application"]  # fmt: skip


def test_daphne_parses_what_the_launcher_gives_it() -> None:
    # In a process of its own: importing Daphne's command line installs Twisted's reactor.
    result = subprocess.run(
        [sys.executable, "-c", DAPHNE_PARSES_THE_LAUNCHERS_ARGUMENTS],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert result.stdout.split() == ["65536", "65536", "-1", "a.b:app"]  # -1: no time limit on a socket


ECHO_APP = """
async def application(scope, receive, send):
    if scope["type"] != "websocket":
        return
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event["type"] == "websocket.receive":
            text = event.get("text") or ""
            if text.startswith("big:"):  # an answer larger than what the server accepts from browsers
                text = "y" * int(text[4:])
            await send({"type": "websocket.send", "text": text})
        else:
            return
"""


def _start_echo_server(tmp_path):
    import os
    import socket
    import time

    from websockets.sync.client import connect

    (tmp_path / "echo_app.py").write_text(ECHO_APP)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboards.config.daphne_server", "-b", "127.0.0.1", "-p", str(port),
         "echo_app:application"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            return server, connect(f"ws://127.0.0.1:{port}/", max_size=None, open_timeout=2)
        except OSError:
            if time.monotonic() > deadline:
                server.terminate()
                raise
            time.sleep(0.1)


def test_a_client_that_does_not_read_large_answers_is_dropped(tmp_path) -> None:
    """What the server may hold unsent for one connection is bounded (SEND_BACKLOG_MAX_BYTES):
    asking for 3 MB answers and never reading them would otherwise grow the server without end."""
    import time

    from websockets.exceptions import ConnectionClosed

    server, client = _start_echo_server(tmp_path)
    try:
        with client:
            with pytest.raises(ConnectionClosed):
                for _ in range(60):  # 180 MB asked for, none read
                    client.send("big:3000000")
                    time.sleep(0.02)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    client.recv(timeout=5)  # what was sent before the drop, then the end
        assert server.poll() is None  # the server goes on
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_frame_over_the_limit_is_closed_with_1009_not_dropped(tmp_path) -> None:
    """1006 (a dropped connection) makes htmx reconnect and send it again; 1009 does not.

    The limit is on what the browser sends only: the server's answers may be larger (a table, a
    download); Autobahn applies it both ways unless the launcher says otherwise."""
    from websockets.exceptions import ConnectionClosed

    server, client = _start_echo_server(tmp_path)
    try:
        with client:
            client.send("small")
            assert client.recv(timeout=5) == "small"
            client.send("big:3000000")
            assert client.recv(timeout=10) == "y" * 3_000_000
            client.send("still open")
            assert client.recv(timeout=5) == "still open"
            with pytest.raises(ConnectionClosed) as closed:
                client.send("x" * (70 * 1024))
                client.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    finally:
        server.terminate()
        server.wait(timeout=10)
