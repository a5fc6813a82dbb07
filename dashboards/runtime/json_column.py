"""A JSON column that reads back whatever an older version let in.

JSON kept outside sessions nests at most JSON_MAX_DEPTH deep now; rows written before that limit
may nest hundreds deep, and decoding them deep in a request's stack raised RecursionError: the
row's page was a 500 for everyone. Such a value now reads as an ``UnreadableJSON`` note.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class UnreadableJSON(str):
    """What stands for a stored value that cannot be decoded here; never to be submitted again."""

    __slots__ = ()


UNREADABLE_NOTE = UnreadableJSON("(not shown: stored nested too deeply to be read back)")


class DepthSafeJSONField(models.JSONField):
    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        try:
            return super().from_db_value(value, expression, connection)
        except RecursionError:
            return UNREADABLE_NOTE


def is_unreadable(value: Any) -> bool:
    return isinstance(value, UnreadableJSON)
