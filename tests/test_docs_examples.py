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


EVERY_BLOCK = [
    (path.name, block)
    for path in sorted((REPO_ROOT / "docs").glob("*.md"))
    for block in re.findall(r"```python\n(.*?)```", path.read_text(), re.S)
]


@pytest.mark.parametrize(
    ("guide", "block"), EVERY_BLOCK, ids=[f"{g}-{n}" for n, (g, _) in enumerate(EVERY_BLOCK)]
)
def test_every_python_block_of_the_docs_parses_and_names_what_exists(guide: str, block: str) -> None:
    """Blocks that are not run (a platform's own code, shown) still parse, and what they import from
    the platform exists: a guide once showed an API that had been replaced."""
    import ast
    import importlib

    tree = ast.parse(block)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dashboards"):
            module = importlib.import_module(node.module or "")
            for alias in node.names:
                assert hasattr(module, alias.name), f"{guide}: {node.module}.{alias.name} does not exist"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("dashboards"):
                    importlib.import_module(alias.name)
