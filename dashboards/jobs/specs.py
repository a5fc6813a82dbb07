"""What a long callback asks for, checked where it is asked (in the handler), free of Django.

App code imports the SDK while its release is validated in a bare process, so nothing here may
import models.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any

from dashboards.jobs.limits import (
    JOB_ARGUMENTS_MAX_BYTES,
    JOB_RESULT_MAX_BYTES,
    JOB_TITLE_MAX_CHARS,
    MAX_JOB_TIMEOUT_SECONDS,
    MAX_RETRIES,
    MIN_PERIOD_MS,
)
from dashboards.runtime.codecs import JsonRefused, bounded_json_copy, unstorable_text


class JobRefused(ValueError):
    """A job that cannot be submitted; the message is for the app's author."""


class JobProgress(int):
    """What a status function gets while its job runs: an int, as in Taipy, plus the progress.

    The int counts the periods elapsed (0 before the first one); ``fraction`` (0 to 1, or None)
    and ``message`` are the job's latest ``progress()`` report.
    """

    fraction: float | None
    message: str
    job_id: int

    def __new__(
        cls, count: int, fraction: float | None = None, message: str = "", job_id: int = 0
    ) -> JobProgress:
        value = super().__new__(cls, count)
        value.fraction, value.message, value.job_id = fraction, message, job_id
        return value

    def __repr__(self) -> str:
        return f"JobProgress(count={int(self)}, fraction={self.fraction!r}, message={self.message!r})"


@dataclass(frozen=True)
class JobSpec:
    function: str  # module:name in the release
    arguments: list[Any]
    status_function: str = ""
    status_arguments: tuple[Any, ...] = ()
    period_ms: int = 0
    timeout_seconds: int | None = None
    max_retries: int = 0
    title: str = ""  # what people read; "" says: the function's name, humanised


def humanised_name(name: str) -> str:
    """A function's name as people read it: ``build_report`` is "Build report"."""
    words = " ".join(name.replace("_", " ").split())
    return words[:1].upper() + words[1:] if words else name


def display_title(function: str, title: str) -> str:
    """What people read of a job: its title, or its function's name (``module:name``) humanised."""
    return title or humanised_name(function.partition(":")[2] or function)


def check_title(title: Any) -> str:
    """A job's title as kept: one line of text, or "" for the function's name, humanised."""
    if title is None:
        return ""
    if not isinstance(title, str):
        raise JobRefused(f"title is text, not {type(title).__name__}")
    title = " ".join(title.split())  # one line: a toast and a table cell show it
    if len(title) > JOB_TITLE_MAX_CHARS:
        raise JobRefused(f"title must be at most {JOB_TITLE_MAX_CHARS} characters (it has {len(title)})")
    problem = unstorable_text(title)
    if problem:
        raise JobRefused(f"title cannot be kept: it holds {problem}")
    return title


def encode_arguments(arguments: Any, *, what: str = "user_function_args") -> list[Any]:
    """Arguments as a JSON list, or JobRefused saying why (they cross processes as JSON)."""
    if arguments is None:
        return []
    if not isinstance(arguments, list | tuple):
        raise JobRefused(f"{what} must be a list or tuple, not {type(arguments).__name__}")
    try:
        return bounded_json_copy(list(arguments), limit=JOB_ARGUMENTS_MAX_BYTES, what=what)
    except JsonRefused as error:
        raise JobRefused(str(error)) from None


def _is_number(value: Any) -> bool:
    """A real, finite number: not a bool, NaN or infinity (which int() cannot take)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def check_period(period: Any) -> int:
    if not _is_number(period) or period < 0:
        raise JobRefused("period is a number of milliseconds (0: no periodic calls)")
    period = int(period)
    if 0 < period < MIN_PERIOD_MS:
        raise JobRefused(f"period must be 0 or at least {MIN_PERIOD_MS} ms")
    return period


def check_timeout(timeout: Any) -> int | None:
    """Seconds, checked in the handler (as the job's submission checks them) so tests see it too."""
    if timeout is None:
        return None
    if not _is_number(timeout) or not 1 <= timeout <= MAX_JOB_TIMEOUT_SECONDS:
        raise JobRefused(f"timeout must be a number of seconds from 1 to {MAX_JOB_TIMEOUT_SECONDS}")
    return int(timeout)


def check_retries(retries: Any) -> int:
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise JobRefused(f"retries must be a whole number from 0 to {MAX_RETRIES}")
    return retries


ERROR_PARAMETER = "error"
_WHY_ENDED = {"stopped": "the job was stopped", "canceled": "the job was canceled"}


def ended_error(status: str, error: str) -> str | None:
    """What a status function's ``error=`` gets at a job's end: None when it finished well."""
    if status == "finished":
        return None
    return error or _WHY_ENDED.get(status, "the job failed")


def status_call_arguments(
    function: Any, state: Any, status: Any, result: Any, extra: list[Any], *, error: str | None = None
) -> tuple[list[Any], dict[str, Any]]:
    """(state, status, *extra), or Taipy's (state, status, *extra, result) when the function takes
    one more (the result is None until the job ends); and, beyond Taipy, ``error=`` (why the job
    failed, else None) when it has a parameter of that name, which never takes a positional slot."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return [state, status, *extra], {}
    keywords: dict[str, Any] = {}
    if any(
        p.name == ERROR_PARAMETER and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters
    ):
        keywords[ERROR_PARAMETER] = error
        parameters = [p for p in parameters if p.name != ERROR_PARAMETER]
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_any = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    if takes_any or len(positional) >= 3 + len(extra):
        return [state, status, *extra, result], keywords
    return [state, status, *extra], keywords


def bounded_result(value: Any) -> tuple[Any, str]:
    """A job's result as kept (a JSON copy), or why it cannot be (the test client uses it too)."""
    try:
        result = bounded_json_copy(value, limit=JOB_RESULT_MAX_BYTES, what="it")
    except JsonRefused as error:
        return None, f"its result cannot be kept: {error}"
    problem = unstorable_text(result)
    if problem:  # PostgreSQL's JSON refuses it: the end would not be recorded at all
        return None, f"its result cannot be kept: a string in it holds {problem}"
    return result, ""
