"""The examples of the guides run: every `# app:` block loads, and its `# test:` block passes."""

from __future__ import annotations

import re

import pytest

from dashboards.testing import AppTestClient
from tests.support import REPO_ROOT

GUIDES = ("sdk.md", "events.md", "scenarios.md")
BLOCKS = [
    block
    for guide in GUIDES
    for block in re.findall(
        r"```python\n(# (app|test): (\w+)\n.*?)```", (REPO_ROOT / "docs" / guide).read_text(), re.S
    )
]
APPS = {name: code for code, kind, name in BLOCKS if kind == "app"}
TESTS = {name: code for code, kind, name in BLOCKS if kind == "test"}


def test_every_app_example_has_a_test() -> None:
    assert APPS and set(APPS) == set(TESTS)


@pytest.mark.parametrize("name", sorted(APPS))
def test_example(name: str) -> None:
    with AppTestClient(APPS[name]) as app:
        exec(TESTS[name], {"app": app})  # noqa: S102 - the documentation's own test code
