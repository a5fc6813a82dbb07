"""Every bound of scenarios, named once. Each says what it guards (see docs/scenarios.md)."""

from __future__ import annotations

NAME_MAX_CHARS = 200
TAGS_MAX = 20  # tags label and filter; more is a list of something else
TAG_MAX_CHARS = 50
PARAMETER_KEY_MAX_CHARS = 50  # a data node's event id is "<scenario id>:<key>", at most 64
# A scenario's parameters travel to the worker as a job's arguments (JOB_ARGUMENTS_MAX_BYTES, the
# same 64 KiB) and are kept in the database: larger inputs belong in a file or a table.
PARAMETERS_MAX_BYTES = 64 * 1024
# Results are a job's result: bounded by JOB_RESULT_MAX_BYTES (256 KiB) in dashboards/jobs/limits.py.

# A data-node event carries the new value when its JSON is at most this long; otherwise only a note.
EVENT_VALUE_MAX_BYTES = 1024
# Rows an app's scenario components show (newest first), and rows the Scenarios page lists.
SESSION_LIST_MAX = 100
PAGE_LIST_MAX = 200
