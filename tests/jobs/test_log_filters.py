"""The worker's log keeps what matters: RQ's routine maintenance lines every 5 s are left out."""

from __future__ import annotations

import logging


def test_rq_routine_maintenance_is_left_out_of_the_log(caplog) -> None:
    rq_log = logging.getLogger("rq.worker")
    with caplog.at_level(logging.INFO):
        rq_log.info("Worker %s: cleaning registries for queue: %s", "w1", "default")
        rq_log.info("Worker %s: cleaning group registries", "w1")
        rq_log.info("default: Job OK (%s)", "abc")
        rq_log.warning("Worker %s: cleaning registries for queue: %s failed", "w1", "default")
    assert [record.getMessage() for record in caplog.records] == [
        "default: Job OK (abc)",
        "Worker w1: cleaning registries for queue: default failed",
    ]
