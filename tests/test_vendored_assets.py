"""Vendored front-end files are exactly the versions VERSIONS.md documents."""

from __future__ import annotations

import hashlib
import re

from tests.support import REPO_ROOT

VENDOR = REPO_ROOT / "static" / "vendor"


def documented() -> dict[str, tuple[str, str]]:
    rows = re.findall(
        r"^\| `([^`]+)` \| [^|]+ \| ([\d.]+) \| [^|]+ \| `([0-9a-f]{64})` \|$",
        (VENDOR / "VERSIONS.md").read_text(),
        re.M,
    )
    return {path: (version, digest) for path, version, digest in rows}


def test_every_vendored_script_is_documented_with_its_digest_and_licence() -> None:
    table = documented()
    scripts = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*.js")}
    assert scripts == set(table)
    for path, (_, digest) in table.items():
        assert hashlib.sha256((VENDOR / path).read_bytes()).hexdigest() == digest, path
        assert (VENDOR / path).parent.joinpath("LICENSE").exists(), path


def test_htmx_file_is_the_documented_version() -> None:
    version, _ = documented()["htmx/htmx.min.js"]
    assert f'version:"{version}"' in (VENDOR / "htmx" / "htmx.min.js").read_text()
