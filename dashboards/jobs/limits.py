"""Every limit and interval of long-running jobs, named once. Each says what it guards."""

from __future__ import annotations

# A job's wall-clock limit unless the call sets its own (invoke_long_callback(..., timeout=)).
DEFAULT_JOB_TIMEOUT_SECONDS = 600
MAX_JOB_TIMEOUT_SECONDS = 24 * 3600

# Jobs of one tenant admitted to the queue or running at once; the rest wait in the database, in
# order, so one tenant's thousand jobs cannot starve the others. Knob: the JOBS_PER_TENANT variable
# (default 4, read in dashboards/config/environment.py).

# Jobs one tab may have queued or running at once, and jobs a tenant may have waiting for a slot:
# past them a submission is refused (the handler is undone with the reason). One viewer clicking
# a button that starts a job once queued 300 jobs a second, hours of the tenant's slots, and one
# handler asking for 2,000 jobs ran 2,000 timers in the web process.
JOBS_PER_TAB = 20
JOBS_WAITING_PER_TENANT = 1000

# Arguments and results travel as JSON; these bound what one job keeps in Redis and the database.
JOB_ARGUMENTS_MAX_BYTES = 64 * 1024
JOB_RESULT_MAX_BYTES = 256 * 1024
ARGUMENT_SUMMARY_CHARS = 200
# A job's title (invoke_long_callback(..., title=)): what people read in toasts, the inbox and the
# Jobs page, so a line, not a paragraph.
JOB_TITLE_MAX_CHARS = 120
ERROR_SUMMARY_CHARS = 500
MESSAGE_CHARS = 300

# Progress reports of one job are coalesced: at most one every PROGRESS_MIN_INTERVAL seconds on
# average reaches the pages (about 20 a second, PROGRESS_BURST at once), the last one always; the
# database row is written less often.
PROGRESS_MIN_INTERVAL = 0.05
PROGRESS_BURST = 2
PROGRESS_DB_INTERVAL = 1.0

# A running job proves it is alive by refreshing a Redis key; a job whose key expired is failed
# with "worker died" by the reconciler, which runs this often in every worker and web process.
ALIVE_TTL_SECONDS = 10
ALIVE_REFRESH_SECONDS = 2
# A job function that returns later than its time limit plus this caught the timeout (RQ raises
# it as an Exception, which ``except Exception`` in app code swallows): it is failed as timed out.
LATE_GRACE_SECONDS = 1.0
RECONCILE_EVERY_SECONDS = 5

# Opt-in retries: at most this many, waiting RETRY_BASE_SECONDS * 2**attempt (capped) in between.
MAX_RETRIES = 10
RETRY_BASE_SECONDS = 2.0
RETRY_MAX_DELAY_SECONDS = 300.0

# The status function's period: below this, ticks would flood the tab.
MIN_PERIOD_MS = 100
ENDED_MESSAGE_RESULT_BYTES = 16 * 1024  # a job's end message carries a result this small to its tab
