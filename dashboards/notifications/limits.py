"""Every limit of notifications, named once. Each says what it guards."""

from __future__ import annotations

# Team notifications one run of app code (a handler, a job, an on_event callback) may send; the
# rest of that run's are not sent, with one warning in the app's log. Each is an inbox row per
# member and a toast on their pages: a job calling notify_team in a loop once wrote 6,000 rows.
TEAM_NOTICES_PER_RUN = 10
