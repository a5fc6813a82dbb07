"""Every limit of the session runtime, named once. Each says what it guards."""

from __future__ import annotations

# Largest WebSocket message and frame Daphne accepts from a browser. Guards memory: before
# Daphne 4.2.2 there was no frame limit and one client could exhaust a server's memory.
WEBSOCKET_MAX_MESSAGE_BYTES = 64 * 1024
WEBSOCKET_MAX_FRAME_BYTES = 64 * 1024

# One handler run's wall-clock limit unless the app sets its own (App.handler_timeout_seconds).
DEFAULT_HANDLER_TIMEOUT_SECONDS = 10.0

# Sync handlers run on a pool of their own (Channels' default would run every sync call of the
# process on one shared thread, so one slow handler would stall every session). A release may use
# at most RELEASE_HANDLER_THREADS of them at once, so one app's stuck handlers cannot starve others,
# and stuck ones are replaced (below), so many apps' stuck handlers cannot either.
HANDLER_POOL_THREADS = 32
RELEASE_HANDLER_THREADS = 8
# A thread cannot be killed: a handler past its time limit keeps its thread, maybe for ever. Such a
# call is written off and another thread takes its place, so hung handlers (at most
# RELEASE_HANDLER_THREADS per release) never shrink what the other apps get; up to this many at
# once, past which the pool shrinks again (and the log says so). Each costs a thread's memory.
LATE_HANDLER_THREADS_MAX = 128

# ORM calls from async code (runtime/db.py) run on a pool of their own whose threads keep their
# database connections (opening one costs about 1 ms on SQLite, 6 to 7 ms on PostgreSQL). The size
# bounds the connections each web process holds for them, and how many such calls run at once; the
# Django setting DB_CALL_THREADS overrides it. A kept connection is replaced after the age, and
# checked before reuse, so one the server dropped is replaced rather than failing a call.
DB_CALL_THREADS = 4
DB_CALL_CONN_MAX_AGE_SECONDS = 300.0

# Events a session may send: a token bucket refilled at EVENTS_PER_SECOND up to EVENT_BURST.
# Past it events are dropped with a toast; EVENT_QUEUE_LIMIT waiting events close the socket.
# A person clicks a few times a second; the burst lets a script (or a benchmark) click back to
# back for a few seconds, while a flood is cut to 100 events/s, one handler at a time.
EVENTS_PER_SECOND = 100.0
EVENT_BURST = 400
EVENT_QUEUE_LIMIT = 500

# Open app tabs of one user in one web process: each holds its state, a task and a snapshot.
# A person keeps a handful open; past this a new one is refused (CLOSE_TOO_MANY_TABS), so one
# account (or a script with its cookie) cannot fill a process's memory. Per process: behind a
# load balancer, a user may hold this many on each. The TABS_PER_USER environment variable
# (settings.TABS_PER_USER) overrides it: a kiosk account, or a load test signed in as one user.
TABS_PER_USER = 50
# How long a closing tab waits for its cancelled tasks to end, so that a shutdown finds none of
# them pending (an async handler that ignores cancellation is left to its own time limit).
TAB_TASKS_END_SECONDS = 1.0
# Every open socket checks its user's sign-in and access this often (with a fifth of jitter) besides
# when told of a change: a sign-in that expired sends no message, and a change's message is at
# most once (lost while Redis restarts). A few small queries a socket each time.
ACCESS_RECHECK_SECONDS = 300.0

# Session snapshots in Redis: kept this long after the last event (a reload or reconnect within
# it restores the tab's state); a page rendered but never connected keeps its snapshot briefly.
SNAPSHOT_IDLE_SECONDS = 3600
SNAPSHOT_UNCONNECTED_SECONDS = 120
# A process writes its tabs' snapshots at most once per this interval: a change after a quiet
# interval at once, the changes that follow it together at the interval's end, so a tab clicking
# back to back costs one write per interval, not one per click. A crash (SIGKILL) loses at most
# this much of the latest changes; a shutdown, a reload or a reconnect writes at once.
SNAPSHOT_WRITE_DELAY_SECONDS = 0.05
# A closing tab waits this long for its writes still under way (app log lines, a job's delivery
# mark), so its last lines are kept; the database being away costs a close no more than this.
WRITES_DRAIN_SECONDS = 5.0

# Rendering a page (runtime/render_deadline.py): it gets RENDER_ON_LOOP_SECONDS on the event loop
# every tab of the process shares, longer than any component of a small state takes (a table stops
# at 1,000 rows) and far shorter than what other tabs notice as a stall; then the app's handler
# time limit on one of its handler threads. Past RENDER_ON_LOOP_INPUT_BYTES of input (the state's
# encoded size plus the page's source) it starts on the thread: one call on a large value cannot
# be stopped between two checks, and some take about 2 µs a character (`{% markdown %}` of a 2 MB
# string: 2.3 s; `|unordered_list`: 3.7 s). The executor's own limit, RENDER_LIMIT_SLACK_SECONDS
# after the render's, catches a single call that runs on past it.
RENDER_ON_LOOP_SECONDS = 0.05
RENDER_ON_LOOP_INPUT_BYTES = 32 * 1024
RENDER_LIMIT_SLACK_SECONDS = 1.0

# Release validation runs in a separate process with this time limit, and this much memory (its
# data: an import that allocates more gets a MemoryError, reported, not the host's last gigabytes).
# Of what it prints, only the last VALIDATION_OUTPUT_TAIL_BYTES are kept (a flood costs nothing).
VALIDATION_TIMEOUT_SECONDS = 20.0
VALIDATION_MEMORY_BYTES = 2 * 1024**3
VALIDATIONS_AT_ONCE = 2  # per process (web or deploy_app); the next waits, up to the time limit
VALIDATION_OUTPUT_TAIL_BYTES = 8 * 1024
# Validation shows the page once with the initial state; a page slower than this to show it would
# keep every user waiting that long, and is reported (not left to the whole validation's limit).
VALIDATION_RENDER_SECONDS = 5.0
# Importing a release's code in a server process (once per process) waits this long; past it the
# caller gets "failed to start" while the import goes on in its own thread. Guards the page,
# socket and job threads from a module that hangs at import (a network call without a timeout),
# and other releases from waiting behind it. Above the validation limit, which an import passed.
RELEASE_IMPORT_TIMEOUT_SECONDS = 30.0

# A loaded release that no open tab of the process uses is unloaded once nothing has asked for it
# this long (a page, a socket, a job); the next user imports it again. Guards a long-running
# process's memory: every deploy adds a release. Sweeps for such releases run at most this often.
RELEASE_IDLE_UNLOAD_SECONDS = 900.0
RELEASE_SWEEP_EVERY_SECONDS = 60.0

# App log: longest line kept, and lines kept per app (older ones are deleted).
APP_LOG_LINE_CHARS = 4000
APP_LOG_KEEP_LINES = 2000

# Deepest nesting of lists and dicts in JSON the platform keeps outside a session (job arguments
# and results, scenario parameters, event values, rq emissions). Python's recursion limit was the
# only bound: a value checked on a shallow stack was read back on a deeper one, and a job's result
# nested 960 deep made the tenant's Jobs page a server error for every member.
JSON_MAX_DEPTH = 100

# Largest serialised session state accepted after a handler (guards Redis memory).
STATE_MAX_BYTES = 2 * 1024 * 1024

# Largest frame the server sends a tab (UTF-8 bytes): a 5 MiB download (6.7 MiB once in base64)
# fits. A handler whose answer would be larger is undone with an error toast, and a reconnecting
# tab whose whole page would be gets a toast instead: a browser spends seconds on such a frame,
# and the server's memory holds it per tab. (WEBSOCKET_MAX_MESSAGE_BYTES bounds what browsers send.)
FRAME_MAX_BYTES = 8 * 1024 * 1024
# What one connection may hold written but not yet taken by the browser: past it (a client that
# asks for large answers and does not read them), the connection is dropped. Twisted buffers all
# that is written; without a bound, 100 clicks a second on an 8 MiB answer would fill memory.
SEND_BACKLOG_MAX_BYTES = 32 * 1024 * 1024
# Longest state key. Keys are a snapshot hash's field names and are sent with every change.
STATE_KEY_MAX_CHARS = 200

# What one SDK command may carry to the browser. A frame is built, escaped and sent whole on the
# event loop (about 25 ms per MiB of text), so these guard every other tab of the process from one
# handler's download, and the browser from a frame it cannot use. Past them the handler raises.
DOWNLOAD_MAX_BYTES = 5 * 1024 * 1024
COMMAND_TEXT_MAX_CHARS = 256 * 1024  # set_content's text; a chart layout's JSON
SELECTOR_MAX_CHARS = 500
URL_MAX_CHARS = 2000
FILENAME_MAX_CHARS = 255
# Toasts: longer messages are shortened (as team notifications are); setTimeout fires at once past
# 2**31 - 1 ms, so a longer duration would hide the toast at once: 0 keeps it until dismissed.
TOAST_MESSAGE_MAX_CHARS = 500
TOAST_MAX_DURATION_MS = 24 * 3600 * 1000
# A team's toast of a job's end, in the tab that started it, waits for the tab's status function
# (queued behind the events then waiting) up to the handler time limit and this much more, then
# is shown anyway (runtime.end_toasts).
END_TOAST_HOLD_SLACK_SECONDS = 5.0
