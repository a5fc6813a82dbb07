"""What ties a process's life to another's (Linux; elsewhere these do nothing). No Django import:
the release validator uses them in a bare process, and ``make run``'s children between fork and exec.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    if sys.platform != "linux":
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except OSError:
        pass


def die_with_parent(signum: int = signal.SIGTERM, parent: int | None = None) -> None:
    """The kernel sends ``signum`` to this process when its parent's thread that started it ends.

    ``parent``: the pid the parent had before the fork. A parent that died before this call left
    this process reparented already, and no signal would come: it gets ``signum`` at once.
    """
    _prctl(_PR_SET_PDEATHSIG, signum)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signum)


def children_die_with_this_process() -> None:
    """Every process this one forks from now on (not a subprocess's exec) gets SIGTERM when this one
    ends, however it ends. For children forked by code we do not own: RQ's scheduler process,
    which a worker killed with SIGKILL left running, holding the scheduler's locks."""
    parent = os.getpid()

    def in_child() -> None:
        if os.getppid() == parent:  # forked by this process itself, not by one of its children
            _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    os.register_at_fork(after_in_child=in_child)


def become_subreaper() -> None:
    """Orphans below this process are reparented to it (not to init), so it can end them."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
