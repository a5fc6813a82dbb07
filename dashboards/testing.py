"""A test client for app authors: run an app's handlers against a session, without a server.

    from dashboards.testing import AppTestClient

    def test_increment():
        app = AppTestClient.from_file("main.py")
        app.click("increment")
        assert app.state["count"] == 1
        assert app.rendered("count")  # the component's HTML after the change

It loads the app the way the platform does (same handler discovery, argument injection, state
tracking and rollback), so what passes here behaves the same when deployed.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from dashboards.runtime.dispatch import route_event
from dashboards.runtime.loader import LoadedApp, load_app, unload
from dashboards.runtime.page import Page, compile_page
from dashboards.runtime.protocol import CMD_TOAST, UI_CHANGE, UI_CLICK
from dashboards.runtime.session import SessionInfo, initial_values
from dashboards.runtime.state import SessionState

__all__ = ["AppTestClient"]


class AppTestClient:
    def __init__(self, files: dict[str, str] | str, *, username: str = "tester") -> None:
        if isinstance(files, str):
            files = {"main.py": files}
        self._key = f"test{uuid.uuid4().hex[:12]}"
        self.app: LoadedApp = load_app(self._key, files)
        self.page: Page = compile_page(self.app.page_source)
        self.session = SessionInfo(
            session_id=self._key, user_id=None, username=username, tenant="test", app="test"
        )
        self.state = SessionState(initial_values(self.app, self.session))
        self.commands: list[dict[str, Any]] = []
        self.last_mutated: set[str] = set()

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> AppTestClient:
        path = Path(path)
        if path.is_dir():
            files = {
                p.name: p.read_text() for p in path.iterdir() if p.suffix == ".py" or p.name == "page.html"
            }
            return cls(files, **kwargs)
        return cls({"main.py": path.read_text()}, **kwargs)

    # --- sending events ---
    def click(self, handler: str, *, target: str | None = None, payload: Any = None) -> set[str]:
        return self.send({"event": UI_CLICK, "handler": handler, "target": target, "payload": payload})

    def change(self, handler: str, value: Any, *, target: str | None = None) -> set[str]:
        return self.send({"event": UI_CHANGE, "handler": handler, "target": target, "payload": value})

    def emit(self, event: str, payload: Any = None) -> set[str]:
        """An app-defined event, as ``dashboards.emit(event, payload)`` sends it from the page."""
        return self.send({"event": event, "payload": payload})

    def send(self, message: dict[str, Any]) -> set[str]:
        """Run one message through the dispatcher and its handler; return the mutated keys.

        A handler that raises is rolled back, as on the platform, and the exception is re-raised.
        """
        route = route_event(message, self.app)
        available = {"state": self.state, "payload": route.payload, "session": self.session,
                     "context": {"event": route.event, "target": route.target},
                     "event": route.event, "target": route.target}  # fmt: skip
        arguments = self.app.signatures[route.handler].arguments(available)
        function = self.app.handlers[route.handler]
        try:
            if self.app.signatures[route.handler].is_async:
                asyncio.run(function(**arguments))
            else:
                function(**arguments)
        except BaseException:
            self.state.rollback()
            raise
        self.last_mutated = self.state.commit()
        self.commands += self.state.take_commands()
        return self.last_mutated

    # --- looking at the result ---
    @property
    def toasts(self) -> list[dict[str, Any]]:
        return [c for c in self.commands if c["type"] == CMD_TOAST]

    def rendered(self, component_id: str) -> str:
        return self.page.render_components([component_id], self.state.values())

    def render(self) -> str:
        return self.page.render(self.state.values())

    def close(self) -> None:
        unload(self._key)

    def __enter__(self) -> AppTestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
