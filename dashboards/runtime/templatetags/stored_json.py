"""``{{ value|pretty_json }}``: JSON the platform keeps, as people read it."""

from __future__ import annotations

import json
from typing import Any

from django import template

from dashboards.runtime.json_column import is_unreadable

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON (``{"growth": -50}``), as apps write and read these values, not Python's repr
    (``{'growth': -50}``, ``True``, ``None``). Not marked safe: the template escapes it. A value
    stored too deep to read back shows its note as it is."""
    if is_unreadable(value):
        return str(value)
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
