"""One fire of a scheduled job: claimed once, crawl subprocess under a time limit, row settled."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from schedules.jobs import CRAWL, REVISIT, FireResult, JobContext, JobSpec, claim_fire, fire
from schedules.jobs import set_context as set_job_context
from schedules.scheduler import JOBS_TABLE, list_schedule, make_trigger, sync_jobs
from storage.db import Archive
from storage.models import CrawlRun
from tests.schedule_support import add_slow_route, demo_server, site_table, wait_until, write_config

FIRE = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def archive(db_url: str) -> Iterator[Archive]:
    with Archive(db_url) as archive:
        yield archive


def _runs(archive: Archive) -> list[CrawlRun]:
    with archive.session() as s:
        return list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def test_a_fire_is_claimed_once(archive: Archive) -> None:
    job = JobSpec("ledger", CRAWL, 60, every_seconds=1800)
    first = claim_fire(archive, job, FIRE)
    assert first is not None
    assert claim_fire(archive, job, FIRE) is None  # a second scheduler, same planned time
    assert claim_fire(archive, job, FIRE + timedelta(minutes=30)) not in (None, first)
    runs = _runs(archive)
    assert [(r.schedule_id, r.fire_time, r.trigger, r.status) for r in runs] == [
        ("crawl:ledger", FIRE, "schedule", "running"),
        ("crawl:ledger", FIRE + timedelta(minutes=30), "schedule", "running"),
    ]


def test_a_scheduler_without_the_lease_fires_nothing(archive: Archive) -> None:
    ctx = JobContext(archive=archive, config_path=None, is_leader=lambda: False)
    set_job_context(ctx)
    try:
        result = fire(JobSpec("ledger", CRAWL, 60, every_seconds=60).to_dict(), fire_time=FIRE)
    finally:
        set_job_context(None)
    assert result.status == "skipped" and "leader" in result.detail
    assert _runs(archive) == []


def test_a_fire_already_taken_by_another_scheduler_starts_no_crawl(archive: Archive) -> None:
    job = JobSpec("ledger", CRAWL, 60, every_seconds=60)
    taken = claim_fire(archive, job, FIRE)  # the other scheduler's row
    set_job_context(JobContext(archive=archive, config_path=None, is_leader=lambda: True))
    try:
        result = fire(job.to_dict(), fire_time=FIRE)
    finally:
        set_job_context(None)
    assert result.status == "skipped" and "already took" in result.detail
    assert [(r.id, r.status) for r in _runs(archive)] == [(taken, "running")]


def test_a_crawl_that_cannot_start_is_recorded_as_failed(archive: Archive, tmp_path: Path) -> None:
    ctx = JobContext(archive, None, is_leader=lambda: True, python=str(tmp_path / "no-python"))
    set_job_context(ctx)
    try:
        result = fire(JobSpec("ledger", CRAWL, 60, every_seconds=60).to_dict(), fire_time=FIRE)
    finally:
        set_job_context(None)
    (run,) = _runs(archive)
    assert result.status == "failed" and run.status == "failed"
    assert run.error is not None and run.error.startswith("cannot start the crawl:")
    assert run.finished_at is not None


@pytest.fixture
def paused_scheduler(archive: Archive) -> Iterator[BackgroundScheduler]:
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=archive.engine, tablename=JOBS_TABLE)},
        timezone=UTC,
    )
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def test_sync_adds_changed_and_new_jobs_and_drops_removed_ones(
    archive: Archive, paused_scheduler: BackgroundScheduler
) -> None:
    a = JobSpec("a", CRAWL, 60, every_seconds=1800)
    b = JobSpec("b", CRAWL, 60, cron="15 6 * * *")
    b_revisit = JobSpec("b", REVISIT, 60, every_seconds=600)
    first = sync_jobs(paused_scheduler, [a, b, b_revisit])
    assert first.added == ["crawl:a", "crawl:b", "revisit:b"]
    again = sync_jobs(paused_scheduler, [a, b, b_revisit])
    assert again.unchanged == ["crawl:a", "crawl:b", "revisit:b"] and not again.added

    c = JobSpec("c", CRAWL, 60, every_seconds=3600)
    a_hourly = JobSpec("a", CRAWL, 60, every_seconds=3600)
    changed = sync_jobs(paused_scheduler, [a_hourly, c])
    assert (changed.added, changed.updated, changed.removed) == (
        ["crawl:c"],
        ["crawl:a"],
        ["crawl:b", "revisit:b"],
    )
    entries = {e.job_id: e for e in list_schedule(archive, [a_hourly, c])}
    assert set(entries) == {"crawl:a", "crawl:c"}
    assert entries["crawl:a"].schedule == "every 1h" and entries["crawl:a"].state == "scheduled"
    # Interval fires sit on a grid anchored at a fixed date, whenever the job was added:
    # two schedulers (or one restarted) plan the same fire times.
    nxt = entries["crawl:a"].next_fire
    assert nxt is not None and nxt.minute == 0 and nxt.second == 0 and nxt.microsecond == 0


def test_schedule_list_marks_jobs_not_yet_stored_as_pending(archive: Archive) -> None:
    spec = JobSpec("a", CRAWL, 60, cron="30 4 * * *")
    (entry,) = list_schedule(archive, [spec])
    assert entry.state == "pending"
    assert entry.next_fire == make_trigger(spec).get_next_fire_time(None, datetime.now(UTC))
    assert entry.next_fire is not None and (entry.next_fire.hour, entry.next_fire.minute) == (4, 30)


def _fire_in_thread(ctx: JobContext, spec: JobSpec) -> tuple[threading.Thread, list[FireResult]]:
    results: list[FireResult] = []

    def run() -> None:
        results.append(fire(spec.to_dict(), fire_time=FIRE))

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


@pytest.fixture
def slow_site(tmp_path: Path, db_url: str) -> Iterator[Path]:
    """A config whose one site's category page takes 30 s to answer."""
    with demo_server() as server:
        release = add_slow_route(server)
        slow_url = server.url["ledger"] + "/slow/news/"
        yield write_config(tmp_path, db_url, [site_table("slow", [slow_url], time_limit="3s")])
        release.set()


@pytest.mark.slow
def test_crawl_past_its_time_limit_is_stopped_and_marked_killed(
    archive: Archive, slow_site: Path
) -> None:
    ctx = JobContext(archive, str(slow_site), is_leader=lambda: True, kill_grace=1.0)
    set_job_context(ctx)
    try:
        started = datetime.now(UTC)
        result = fire(JobSpec("slow", CRAWL, 3, every_seconds=60).to_dict(), fire_time=FIRE)
    finally:
        set_job_context(None)
    (run,) = _runs(archive)
    assert result.status == "killed" and result.run_id == run.id
    assert (run.status, run.error, run.fire_time) == ("killed", "time limit 3s exceeded", FIRE)
    assert run.finished_at is not None
    # limit + kill grace + slack for a loaded machine
    assert run.finished_at - started < timedelta(seconds=3 + 1 + 10)


@pytest.mark.slow
def test_crawl_process_that_dies_without_recording_is_marked_failed(
    archive: Archive, slow_site: Path
) -> None:
    ctx = JobContext(archive, str(slow_site), is_leader=lambda: True)
    set_job_context(ctx)
    try:
        thread, results = _fire_in_thread(ctx, JobSpec("slow", CRAWL, 60, every_seconds=60))
        # The crawl takes its row over (status running, its pid); then it "crashes".
        pid = wait_until(lambda: next((r.pid for r in _runs(archive) if r.pid), None))
        os.kill(pid, signal.SIGKILL)
        thread.join(30)
    finally:
        set_job_context(None)
    (run,) = _runs(archive)
    assert results and results[0].status == "failed"
    assert run.status == "failed" and run.finished_at is not None
    assert run.error == "crawl process killed by SIGKILL without recording its run"


@pytest.mark.slow
def test_revisit_fire_crawls_only_due_revisits_and_records_its_run(
    archive: Archive, db_url: str, tmp_path: Path
) -> None:
    with demo_server() as server:
        ledger = server.sites["ledger"]
        starts = [ledger.category_url(c) for c in ledger.categories]
        config = write_config(tmp_path, db_url, [site_table("ledger", starts)])
        set_job_context(JobContext(archive, str(config), is_leader=lambda: True))
        try:
            result = fire(JobSpec("ledger", REVISIT, 60, every_seconds=600).to_dict(), FIRE)
        finally:
            set_job_context(None)
        category_paths = {c.split(server.url["ledger"], 1)[1] for c in starts}
        fetched = {r.path for r in server.requests("ledger")}
    (run,) = _runs(archive)
    assert result.status == "ok", result.detail
    assert (run.status, run.trigger, run.schedule_id) == ("ok", "revisit", "revisit:ledger")
    assert not fetched & category_paths  # nothing is due yet, and categories are not crawled
