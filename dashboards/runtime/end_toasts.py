"""The team's toast of a job's end, in the tab that started the job.

That tab runs the job's status function at the end, which usually tells the user itself with a
``notify``: the team's toast there would say the same thing twice. So the tab holds the team's
toast until its status function has run for that end, and shows it only if the function showed
no toast of its own (it notified nothing, failed or timed out). The two come in either order:
the team's toast through the user's inbox group, the end through the tab's ordered queue. A toast
held longer than ``hold_seconds`` (the end ran on another socket of the tab, say) is shown then:
told twice is better than never.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable

# Ends whose status function ran before their team toast came, remembered per tab (most recent).
ENDS_REMEMBERED = 64


class HeldEndToasts:
    def __init__(self, *, show_later: Callable[[str], object], hold_seconds: float) -> None:
        self.show_later = show_later  # the consumer's: queues a toast behind the tab's events
        self.hold_seconds = hold_seconds
        self.held: dict[int, tuple[str, asyncio.TimerHandle]] = {}
        self.told: OrderedDict[int, bool] = OrderedDict()  # ends run first: whether they showed a toast

    def team_toast(self, job_id: int, toast: str) -> str:
        """The team's toast of a job's end came: what to show of it now ("" while it waits)."""
        if job_id in self.told:
            return "" if self.told.pop(job_id) else toast
        if job_id in self.held:  # the same end announced twice: one toast
            return ""
        timer = asyncio.get_running_loop().call_later(self.hold_seconds, self._give_up, job_id)
        self.held[job_id] = (toast, timer)
        return ""

    def end_told(self, job_id: int, showed_a_toast: bool) -> str:
        """The status function ran for the job's end: the held team toast to add to its frame, if any."""
        held = self.held.pop(job_id, None)
        if held is None:
            self.told[job_id] = showed_a_toast
            while len(self.told) > ENDS_REMEMBERED:
                self.told.popitem(last=False)
            return ""
        toast, timer = held
        timer.cancel()
        return "" if showed_a_toast else toast

    def _give_up(self, job_id: int) -> None:
        held = self.held.pop(job_id, None)
        if held is not None:
            self.show_later(held[0])

    def close(self) -> None:
        for _, timer in self.held.values():
            timer.cancel()
        self.held.clear()
