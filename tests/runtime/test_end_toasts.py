"""The team's toast of a job's end in the tab that started it: shown there only if the app's
status function showed none, whichever of the two comes first."""

from __future__ import annotations

import asyncio

from dashboards.runtime.end_toasts import ENDS_REMEMBERED, HeldEndToasts

TOAST = '<div class="toast">Jobs lab: Crunch finished</div>'


def held(shown: list[str], hold_seconds: float = 60.0) -> HeldEndToasts:
    return HeldEndToasts(show_later=shown.append, hold_seconds=hold_seconds)


async def test_a_toast_that_comes_first_waits_for_the_status_function() -> None:
    shown: list[str] = []
    toasts = held(shown)
    assert toasts.team_toast(7, TOAST) == ""
    assert toasts.end_told(7, showed_a_toast=True) == ""  # the app told the end: one toast
    assert toasts.team_toast(8, TOAST) == ""
    assert toasts.end_told(8, showed_a_toast=False) == TOAST  # it did not: the team's, with its frame
    assert shown == [] and toasts.held == {}


async def test_a_toast_that_comes_after_the_status_function_is_shown_only_if_it_showed_none() -> None:
    toasts = held([])
    assert toasts.end_told(7, showed_a_toast=True) == ""
    assert toasts.end_told(8, showed_a_toast=False) == ""
    assert toasts.team_toast(7, TOAST) == ""
    assert toasts.team_toast(8, TOAST) == TOAST
    assert toasts.team_toast(8, TOAST) == ""  # remembered once: a second notification waits anew
    toasts.close()


async def test_a_toast_whose_end_never_runs_here_is_shown_after_the_hold() -> None:
    shown: list[str] = []
    toasts = held(shown, hold_seconds=0.05)
    assert toasts.team_toast(7, TOAST) == ""
    assert toasts.team_toast(7, TOAST) == ""  # announced twice: held once
    await asyncio.sleep(0.15)
    assert shown == [TOAST]
    assert toasts.end_told(7, showed_a_toast=False) == ""  # too late: already shown, not twice


async def test_closing_drops_what_is_held_and_ends_remembered_are_bounded() -> None:
    shown: list[str] = []
    toasts = held(shown, hold_seconds=0.05)
    toasts.team_toast(7, TOAST)
    toasts.close()
    await asyncio.sleep(0.15)
    assert shown == []
    for job_id in range(ENDS_REMEMBERED + 10):
        toasts.end_told(job_id, showed_a_toast=True)
    assert len(toasts.told) == ENDS_REMEMBERED and 0 not in toasts.told
