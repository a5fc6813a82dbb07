"""The few scripts a page carries inline, and the Content-Security-Policy sources that allow them.

Everything else is a file under static/ (script-src 'self'). A script is inlined only when waiting
for its download would cost the user time: the app page's early socket (static/js/socket-early.js)
must start before the page's other scripts arrive. Its text is static, so the policy names it by
its SHA-256 and no nonce is needed: any other inline script stays refused.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

from django.conf import settings

INLINE_SCRIPTS = ("js/socket-early.js",)


LEADING_COMMENT = re.compile(r"\A\s*/\*.*?\*/\s*", re.DOTALL)


@cache
def inline_script_text(name: str) -> str:
    """The script's text, read once from static/ (the source, which deployments ship as well),
    less its leading comment: every page would carry it."""
    if name not in INLINE_SCRIPTS:
        raise ValueError(f"{name} is not one of the inline scripts")
    text = (Path(settings.BASE_DIR) / "static" / name).read_text(encoding="utf-8")
    text = LEADING_COMMENT.sub("", text, count=1)
    if "</script" in text.lower():
        raise ValueError(f"{name} would end its own <script> element")
    return text


@cache
def inline_script_sources() -> str:
    """The policy's sources for every inline script: "'sha256-…' …"."""
    hashes = []
    for name in INLINE_SCRIPTS:
        digest = hashlib.sha256(inline_script_text(name).encode("utf-8")).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
    return " ".join(hashes)
