"""The handler threads: a call written off (past its limit) is replaced, and the extra thread
retires once that call ends."""

from __future__ import annotations

import threading
import time

import pytest

from dashboards.runtime.handler_threads import HandlerThreads


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


@pytest.fixture
def pool():
    threads = HandlerThreads(2, late_max=2, name="test-handler")
    yield threads
    threads.shutdown()


def test_calls_run_and_threads_are_reused(pool) -> None:
    ran: list[int] = []
    done = threading.Event()
    for number in range(50):
        pool.start(lambda number=number: (ran.append(number), number == 49 and done.set()))
    assert done.wait(5)
    wait_until(lambda: len(ran) == 50)
    assert sorted(ran) == list(range(50)) and pool.threads <= 2


def test_submit_gives_a_future_with_the_result_or_the_error(pool) -> None:
    assert pool.submit(lambda a, b: a + b, 2, b=3).result(5) == 5
    with pytest.raises(ZeroDivisionError):
        pool.submit(lambda: 1 / 0).result(5)


def test_a_written_off_call_is_replaced_and_the_surplus_retires_when_it_ends(pool) -> None:
    release = threading.Event()
    for _ in range(2):
        pool.start(release.wait)
    wait_until(lambda: pool.threads == 2)
    served = threading.Event()
    pool.start(served.set)  # every thread is stuck: it waits
    assert not served.wait(0.1)
    assert pool.write_off() and pool.write_off()  # both callers gave up on their calls
    assert served.wait(5)  # a new thread took the waiting call
    assert pool.late == 2 and 3 <= pool.threads <= 4  # never more than its size plus the late ones
    release.set()
    pool.written_off_ended()
    pool.written_off_ended()
    wait_until(lambda: pool.threads == 2)
    again = threading.Event()
    pool.start(again.set)
    assert again.wait(5)


def test_past_its_limit_of_written_off_calls_the_pool_shrinks_and_says_so(pool, caplog) -> None:
    assert pool.write_off() and pool.write_off()
    assert not pool.write_off()
    assert "no thread replaces the next one" in caplog.text
    assert pool.late == 2
