"""A tab's long callbacks end to end: its socket, a real worker, the status function in the tab."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from asgiref.sync import sync_to_async

from dashboards.jobs.models import Job, JobStatus
from tests.runtime.conftest import click, open_socket


async def frames_until(tab, text: str, timeout: float = 20.0) -> list[str]:
    frames: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = await tab.socket.receive_from(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        frames.append(frame)
        if text in frame:
            return frames
    raise AssertionError(f"{text!r} never arrived; got {frames}")


async def job_count() -> int:
    return await sync_to_async(Job.objects.count)()


async def test_progress_and_the_result_reach_the_status_function(jobs_lab, job_worker, live_world) -> None:
    tab = await open_socket(live_world.adam, app="jobs-lab")
    frame = await click(tab, "start", payload={"fn": "crunch", "args": [5, 0.1]})
    assert "submitted" in frame
    frames = await frames_until(tab, "done")
    assert any("step 3 of 5" in f for f in frames)  # JobProgress.message, through the status function
    assert any('value="60"' in f for f in frames)  # the progress bar bound to state.fraction
    assert "total" in frames[-1] and "10" in frames[-1]  # the result, written into state
    assert "job done" in frames[-1]  # the status function's toast
    await tab.socket.disconnect()


async def test_a_failed_job_calls_the_status_function_with_false(jobs_lab, job_worker, live_world) -> None:
    tab = await open_socket(live_world.adam, app="jobs-lab")
    await click(tab, "start", payload={"fn": "explode", "args": ["nope"]})
    frames = await frames_until(tab, "job failed")
    assert "failed" in frames[-1]
    assert "job failed: ValueError: nope" in frames[-1]  # error=, beyond Taipy: why it failed
    await tab.socket.disconnect()


async def test_period_ticks_count_while_the_job_runs(jobs_lab, job_worker, live_world) -> None:
    tab = await open_socket(live_world.adam, app="jobs-lab")
    await click(tab, "start", payload={"fn": "sleepy", "args": [1.5], "period": 200})
    frames = await frames_until(tab, "done")
    running = [f for f in frames if "running" in f]
    assert len(running) >= 3, frames
    await tab.socket.disconnect()


async def test_reports_faster_than_the_status_function_never_pile_up_or_lose_the_end(
    jobs_lab, job_worker, live_world
) -> None:
    """200 progress reports and a 100 ms period against a status function of 200 ms: while one
    run waits in the tab's queue, newer reports update it instead of queueing more, and the end
    comes through (it once was dropped with the rest when the queue filled)."""
    tab = await open_socket(live_world.adam, app="jobs-lab")
    await click(tab, "start", payload={"fn": "crunch", "args": [200, 0.01], "period": 100, "slow": True})
    frames = await frames_until(tab, "job done", timeout=30)
    running = [f for f in frames if "running" in f]
    assert 1 <= len(running) <= 20, len(running)  # about one per status run, not one per report
    assert "job done" in frames[-1] and "19900" in frames[-1]  # the end, with its result
    await tab.socket.disconnect()


def test_a_running_update_dropped_by_a_full_queue_is_tried_again_at_the_next_report() -> None:
    """A dropped "still running" run must not leave the job marked as queued: the tab would show
    no progress again until the end."""
    from dashboards.runtime.long_callbacks import JobWatch, TabJobs

    accepted = []
    room = {"free": False}

    def post(work, keep: bool) -> bool:
        if room["free"]:
            accepted.append(work)
        return room["free"]

    jobs = TabJobs(SimpleNamespace())
    jobs.post = post
    jobs.watches[7] = JobWatch(7, "main:on_status", [], period_ms=0)
    jobs.note_progress(7, 0.1, "step 1")  # the queue is full: dropped
    assert accepted == [] and not jobs.watches[7].queued
    room["free"] = True
    jobs.note_progress(7, 0.2, "step 2")
    jobs.note_progress(7, 0.3, "step 3")  # one run waits already: it will show step 3
    assert len(accepted) == 1 and jobs.watches[7].queued and jobs.watches[7].message == "step 3"


async def _until_a_job_is(status: str) -> None:
    """While no tab listens: a job of the test's has ended so (at most 10 s)."""
    exists = sync_to_async(Job.objects.filter(status=status).exists)
    for _ in range(200):
        if await exists():
            return
        await asyncio.sleep(0.05)


async def test_a_tab_that_comes_back_gets_the_result_it_missed(jobs_lab, job_worker, live_world) -> None:
    tab = await open_socket(live_world.adam, app="jobs-lab")
    await click(tab, "start", payload={"fn": "sleepy", "args": [0.5]})
    await tab.socket.disconnect()
    await _until_a_job_is(JobStatus.FINISHED)
    again = await open_socket(live_world.adam, app="jobs-lab", session_id=tab.session_id, fresh=False)
    frames = await frames_until(again, "job done")
    assert "woke" in "".join(frames)
    await again.socket.disconnect()


async def test_a_tab_that_comes_back_after_a_failure_hears_why(jobs_lab, job_worker, live_world) -> None:
    """Read from the job's row, not the end message: the status function gets ``error=`` too."""
    tab = await open_socket(live_world.adam, app="jobs-lab")
    await click(tab, "start", payload={"fn": "explode", "args": ["while you were away"]})
    await tab.socket.disconnect()
    await _until_a_job_is(JobStatus.FAILED)
    again = await open_socket(live_world.adam, app="jobs-lab", session_id=tab.session_id, fresh=False)
    frames = await frames_until(again, "job failed")
    assert "job failed: ValueError: while you were away" in "".join(frames)
    await again.socket.disconnect()


async def test_another_user_with_the_tabs_session_id_gets_none_of_its_jobs(
    jobs_lab, job_worker, live_world
) -> None:
    tab = await open_socket(live_world.adam, app="jobs-lab")
    await click(tab, "start", payload={"fn": "sleepy", "args": [0.5]})
    await tab.socket.disconnect()
    # A leaked session id, opened by another member while the job runs and after it ended.
    other = await open_socket(live_world.avery, app="jobs-lab", session_id=tab.session_id, fresh=False)
    for _ in range(200):
        if await sync_to_async(Job.objects.filter(status=JobStatus.FINISHED).exists)():
            break
        await asyncio.sleep(0.05)
    later = await open_socket(live_world.avery, app="jobs-lab", session_id=tab.session_id, fresh=False)
    for socket in (other.socket, later.socket):
        heard = []
        while not await socket.receive_nothing(timeout=0.5):
            heard.append(await socket.receive_from())
        assert not [frame for frame in heard if "job done" in frame or "woke" in frame], heard
        await socket.disconnect()
    again = await open_socket(live_world.adam, app="jobs-lab", session_id=tab.session_id, fresh=False)
    assert "woke" in "".join(await frames_until(again, "job done"))  # still the owner's, undelivered
    await again.socket.disconnect()


async def test_the_end_message_runs_the_status_function_once_and_the_row_is_marked(
    jobs_lab, job_worker, live_world
) -> None:
    from channels.layers import get_channel_layer

    from dashboards.runtime.groups import tab_group

    tab = await open_socket(live_world.adam, app="jobs-lab")
    await click(tab, "start", payload={"fn": "crunch", "args": [2, 0.05]})
    frames = await frames_until(tab, "job done")  # from the end message's result: no read first
    job = await sync_to_async(Job.objects.get)(session_id=tab.session_id)
    for _ in range(100):  # marked on the row after the frame
        await sync_to_async(job.refresh_from_db)()
        if job.status_delivered:
            break
        await asyncio.sleep(0.02)
    assert job.status_delivered
    # The same end heard again (a duplicate, or the hint of another process): nothing runs twice.
    message = {"type": "job.ended", "job_id": job.pk, "status": "finished", "result": job.result}
    await get_channel_layer().group_send(tab_group(job.app_id, job.user_id, tab.session_id), message)
    later = []
    while not await tab.socket.receive_nothing(timeout=0.5):
        later.append(await tab.socket.receive_from())  # the team's notification toast, say
    assert not [frame for frame in later if "job done" in frame]
    assert "total" in frames[-1]
    await tab.socket.disconnect()


async def test_arguments_that_are_not_json_are_refused_in_the_handler(jobs_lab, live_world) -> None:
    tab = await open_socket(live_world.adam, app="jobs-lab")
    frame = await click(tab, "start_bad_arguments")
    assert "JSON-serialisable" in frame and "toast-error" in frame
    assert await job_count() == 0
    await tab.socket.disconnect()


async def test_a_handler_that_fails_starts_no_job(jobs_lab, live_world) -> None:
    tab = await open_socket(live_world.adam, app="jobs-lab")
    frame = await click(tab, "start_then_fail")
    assert "toast-error" in frame
    assert await job_count() == 0
    await tab.socket.disconnect()


async def test_job_functions_are_not_reachable_from_the_browser(jobs_lab, live_world) -> None:
    tab = await open_socket(live_world.adam, app="jobs-lab")
    frame = await click(tab, "crunch", payload=5)
    assert "Unknown handler" in frame
    await tab.socket.disconnect()


async def test_a_visitor_of_a_shared_link_runs_a_job_and_sees_its_end(
    jobs_lab, job_worker, live_world
) -> None:
    """A visitor who is not signed in (an app shared with anyone who has the link): the job has no
    user, reports to their tab, and its end reaches them; the team hears of it as for anyone."""
    from tests.runtime.test_link_sharing import link_socket, visit

    token = await sync_to_async(_share_by_link)(jobs_lab)
    browser, session_id = await sync_to_async(visit)(token)
    socket = link_socket(token, browser, session_id)
    assert (await socket.connect())[0]

    tab = SimpleNamespace(socket=socket)  # what click and frames_until read
    frame = await click(tab, "start", payload={"fn": "crunch", "args": [3, 0.05]})
    assert "submitted" in frame
    frames = await frames_until(tab, "done")
    assert "job done" in frames[-1]
    job = await sync_to_async(Job.objects.get)()
    assert job.user_id is None and job.status == JobStatus.FINISHED
    await socket.disconnect()


async def test_another_visitor_naming_the_tabs_id_gets_none_of_its_jobs(
    jobs_lab, job_worker, live_world
) -> None:
    """Link visitors have no user to tell their tabs apart: their browser's id is part of the tab's
    id as its jobs know it, so a second browser that names the same tab id hears nothing of them."""
    from tests.runtime.test_link_sharing import link_socket, visit

    token = await sync_to_async(_share_by_link)(jobs_lab)
    owner, session_id = await sync_to_async(visit)(token)
    tab = link_socket(token, owner, session_id)
    assert (await tab.connect())[0]
    assert "submitted" in await click(
        SimpleNamespace(socket=tab), "start", payload={"fn": "sleepy", "args": [0.5]}
    )
    await tab.disconnect()

    stranger, _ = await sync_to_async(visit)(token)  # another browser, its own visitor id
    other = link_socket(token, stranger, session_id)
    assert (await other.connect())[0]
    heard = []
    while not await other.receive_nothing(timeout=1.5):  # the job ends meanwhile
        heard.append(await other.receive_from())
    await other.disconnect()
    assert not [frame for frame in heard if "woke" in frame or "job done" in frame], heard

    back = link_socket(token, owner, session_id)  # the owner comes back: the result is theirs
    assert (await back.connect())[0]
    frames = await frames_until(SimpleNamespace(socket=back), "job done")
    assert any("woke" in frame for frame in frames)
    await back.disconnect()


def _share_by_link(app) -> str:
    app.access = "link"
    app.save()
    return app.link_token


async def test_a_job_retried_from_the_jobs_page_reports_its_progress_to_the_open_tab(
    jobs_lab, job_worker, live_world
) -> None:
    """The retry keeps the tab's session: its end reached the tab, its progress did not."""
    from dashboards.jobs.services import job_resubmit

    tab = await open_socket(live_world.adam, app="jobs-lab")
    await click(tab, "start", payload={"fn": "explode", "args": ["first try"]})
    await frames_until(tab, "job failed")
    failed = await sync_to_async(Job.objects.get)(function="main:explode")
    await sync_to_async(Job.objects.filter(pk=failed.pk).update)(function="main:crunch", arguments=[6, 0.15])
    failed.function, failed.arguments = "main:crunch", [6, 0.15]
    await sync_to_async(job_resubmit)(job=failed, user_id=live_world.adam.pk)
    frames = await frames_until(tab, "job done")
    assert any("step 4 of 6" in frame for frame in frames), frames  # while it ran, not only its end
    await tab.socket.disconnect()


def _give_the_app_its_team(app) -> None:
    from dashboards.tenancy.models import Team

    app.teams.add(Team.objects.for_tenant(app.tenant_id).get(name="Analysts"))  # alice and avery


async def quiet_frames(socket, quiet: float = 1.5) -> list[str]:
    """What a socket hears until it has heard nothing for ``quiet`` seconds."""
    heard = []
    while not await socket.receive_nothing(timeout=quiet):
        heard.append(await socket.receive_from())
    return heard


async def test_the_tab_that_started_a_job_tells_its_end_once_and_the_team_hears_of_it_elsewhere(
    jobs_lab, job_worker, live_world
) -> None:
    """The starter's tab shows the end through the app's status function; the team's toast of the
    same end goes to the starter's other pages and tabs and to the rest of the team, never to
    that tab (which gets the badge alone); everyone's inbox gets the entry."""
    from dashboards.notifications.models import Notification
    from tests.live.conftest import connect_live

    await sync_to_async(_give_the_app_its_team)(jobs_lab)
    tab = await open_socket(live_world.avery, app="jobs-lab")
    other_tab = await open_socket(live_world.avery, app="jobs-lab")  # the same app, another tab
    avery_home = await connect_live(live_world.avery, "tenant=acme")
    alice_home = await connect_live(live_world.alice, "tenant=acme")
    await click(tab, "start", payload={"fn": "crunch", "args": [2, 0.05]})
    for socket in (avery_home, alice_home, other_tab.socket):
        await frames_until(SimpleNamespace(socket=socket), "Jobs lab: Crunch finished")  # the team's toast
    heard = "".join([*await frames_until(tab, "job done"), *await quiet_frames(tab.socket)])
    assert heard.count("toast-success") == 1, heard  # the app's own toast of the end, alone
    assert "Jobs lab: " not in heard
    assert 'id="inbox-badge"' in heard and 'data-count="1"' in heard  # the badge still moves
    rows = Notification.objects.filter(subject_type="job").values_list("user__username", flat=True)
    assert sorted(await sync_to_async(list)(rows)) == ["alice", "avery"]
    for socket in (tab.socket, other_tab.socket, avery_home, alice_home):
        await socket.disconnect()


async def test_a_status_function_that_shows_no_toast_leaves_the_teams_toast_to_the_tab(
    jobs_lab, job_worker, live_world
) -> None:
    """The tab that started the job held back the team's toast, for its status function to tell
    the end; one that told it in the page alone (no notify) left its user with no toast at all."""
    await sync_to_async(_give_the_app_its_team)(jobs_lab)
    tab = await open_socket(live_world.avery, app="jobs-lab")
    await click(tab, "start", payload={"fn": "crunch", "args": [2, 0.05], "quiet": True})
    heard = "".join([*await frames_until(tab, "done quietly"), *await quiet_frames(tab.socket)])
    assert heard.count("Jobs lab: Crunch finished") == 1, heard  # the team's toast, once
    assert heard.count("toast-success") == 1
    assert 'id="inbox-badge"' in heard and 'data-count="1"' in heard
    await tab.socket.disconnect()


async def test_the_title_a_handler_gives_its_job_names_it_in_the_teams_notification(
    jobs_lab, job_worker, live_world
) -> None:
    from dashboards.notifications.models import Notification

    tab = await open_socket(live_world.adam, app="jobs-lab")
    await click(tab, "start", payload={"fn": "crunch", "args": [2], "title": "Nightly totals"})
    await frames_until(tab, "job done")
    await quiet_frames(tab.socket)  # the notification's badge, pushed after the tab was told
    job = await sync_to_async(Job.objects.get)(session_id=tab.session_id)
    assert job.title == "Nightly totals"
    messages = await sync_to_async(list)(Notification.objects.values_list("message", flat=True))
    assert messages == ["Jobs lab: Nightly totals finished"]
    frame = await click(tab, "start", payload={"fn": "crunch", "args": [2], "title": "x" * 500})
    assert "title must be at most 120 characters" in frame and "toast-error" in frame  # the handler undone
    assert await job_count() == 1
    await tab.socket.disconnect()
