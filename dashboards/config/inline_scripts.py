"""The few scripts a page carries inline, and the Content-Security-Policy sources that allow them.

Everything else is a file under static/ (script-src 'self'). A script is inlined only when waiting
for its download would cost the user time: the app page's early socket (static/js/socket-early.js)
must start before the page's other scripts arrive. Its text is static, so the policy names it by
its SHA-256 and no nonce is needed. A page's policy names only the inline scripts that page
carries (the template tag notes them on the request): any other inline script stays refused.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest

INLINE_SCRIPTS = ("js/socket-early.js",)

LEADING_COMMENT = re.compile(r"\A\s*/\*.*?\*/\s*", re.DOTALL)
REQUEST_ATTRIBUTE = "inline_scripts"  # the names a response's page carries, set by the template tag


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
def inline_script_source(name: str) -> str:
    """The policy's source that allows this script: "'sha256-…'"."""
    digest = hashlib.sha256(inline_script_text(name).encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def note_inline_script(request: HttpRequest | None, name: str) -> None:
    """The page being rendered for ``request`` carries this script: its policy must allow it."""
    if request is not None:
        request.__dict__.setdefault(REQUEST_ATTRIBUTE, set()).add(name)


def inline_scripts_of(request: HttpRequest) -> Iterable[str]:
    return getattr(request, REQUEST_ATTRIBUTE, ())
