"""The scheduler daemon: APScheduler 3.x in the archive database, fired only by the leader.

Jobs live in APScheduler's SQLAlchemyJobStore (table `apscheduler_jobs` in the archive
database), so fire times survive restarts and every scheduler sees the same plan. Several
schedulers may run against one database (by mistake, or as hot standbys): each starts its
BlockingScheduler paused and only the holder of the `leases` row resumes it. The leader
syncs the jobs with the config when it takes over, renews the lease every third of its
length, and pauses again if it ever loses it. Each fire is also claimed by a unique
crawl_runs row (see schedules.jobs), so even two leaders could not run one fire twice.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from schedules import jobs
from schedules.jobs import JobContext, JobSpec
from schedules.lease import LeaderLease
from storage.db import Archive

log = logging.getLogger("schedules")

JOBS_TABLE = "apscheduler_jobs"
# Interval jobs are anchored here, not at "now": every scheduler, before and after any
# restart, plans the same fire times, which is what makes their crawl_runs rows collide.
INTERVAL_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)
JOB_FUNC = "schedules.jobs:fire"


def make_trigger(spec: JobSpec) -> Any:
    """The APScheduler trigger for a job spec (UTC, intervals anchored at INTERVAL_ANCHOR)."""
    if spec.cron is not None:
        return CronTrigger.from_crontab(spec.cron, timezone=UTC)
    return IntervalTrigger(seconds=spec.every_seconds, start_date=INTERVAL_ANCHOR, timezone=UTC)


class FireTimeExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """A thread pool executor that tells the job function its planned fire time.

    APScheduler 3.x calls job functions without the scheduled run time; it only passes the
    run times to the executor. The job runs through a thin view of the Job whose kwargs add
    `fire_time`, so the stored job itself is never changed (the scheduler re-pickles it).
    With coalesce on there is exactly one run time per submission.
    """

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        super()._do_submit_job(_FiredJob(job, run_times[-1]), run_times)


class _FiredJob:
    """A Job seen with one more keyword argument: the fire time."""

    def __init__(self, job: Any, fire_time: datetime) -> None:
        self._job = job
        self.kwargs = {**job.kwargs, "fire_time": fire_time}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


class _Scheduler(BlockingScheduler):  # type: ignore[misc]
    """BlockingScheduler that processes jobs only while running.

    APScheduler checks only for "paused": a wakeup that lands while shutdown() waits for
    running fires (state already "stopped") would submit to the closed executor.
    """

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        wait: float | None = super()._process_jobs()
        return wait


@dataclass(frozen=True)
class SyncResult:
    """How the job store changed to match the config."""

    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]


def sync_jobs(scheduler: Any, specs: Sequence[JobSpec]) -> SyncResult:
    """Make the job store hold exactly these jobs: add new, replace changed, drop stale.

    An unchanged job is left alone, so its pending fire (say, missed while the daemon was
    down, within the misfire grace time) still runs once; replacing it would re-plan it.
    """
    existing = {job.id: job for job in scheduler.get_jobs()}
    wanted = {spec.id: spec for spec in specs}
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for job_id, spec in wanted.items():
        old = existing.get(job_id)
        trigger = make_trigger(spec)
        if old is not None and old.kwargs.get("spec") == spec.to_dict():
            unchanged.append(job_id)
            continue
        scheduler.add_job(
            JOB_FUNC,
            trigger=trigger,
            id=job_id,
            name=f"{spec.kind} {spec.site}",
            kwargs={"spec": spec.to_dict()},
            replace_existing=True,
        )
        (updated if old is not None else added).append(job_id)
    removed = sorted(set(existing) - set(wanted))
    for job_id in removed:
        scheduler.remove_job(job_id)
    return SyncResult(sorted(added), sorted(updated), removed, sorted(unchanged))


def ensure_jobs_table(archive: Archive) -> None:
    """Create the job store's table if missing; tolerate another scheduler creating it too."""
    table = SQLAlchemyJobStore(engine=archive.engine, tablename=JOBS_TABLE).jobs_t
    try:
        table.create(archive.engine, checkfirst=True)
    except DBAPIError:
        # Two schedulers starting on a fresh PostgreSQL database race on CREATE TABLE.
        if not inspect(archive.engine).has_table(JOBS_TABLE):
            raise


def make_scheduler(
    archive: Archive, *, misfire_grace_seconds: float = 600, max_workers: int = 16
) -> BlockingScheduler:
    """A BlockingScheduler on the archive's job store: coalesce on, one instance per job."""
    return _Scheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=archive.engine, tablename=JOBS_TABLE)},
        executors={"default": FireTimeExecutor(max_workers=max_workers)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(misfire_grace_seconds),
        },
        timezone=UTC,
    )


class SchedulerDaemon:
    """`newsarchive schedule run`: leader election around a paused-until-leader scheduler."""

    def __init__(
        self,
        database_url: str,
        specs: Sequence[JobSpec],
        *,
        config_path: str | None,
        lease_seconds: float = 30.0,
        stop_grace: float = 30.0,
        kill_grace: float = 10.0,
        misfire_grace_seconds: float = 600,
    ) -> None:
        self.archive = Archive(database_url)
        ensure_jobs_table(self.archive)
        self.specs = list(specs)
        self.lease = LeaderLease(self.archive, seconds=lease_seconds)
        self.scheduler = make_scheduler(self.archive, misfire_grace_seconds=misfire_grace_seconds)
        self.context = JobContext(
            archive=self.archive,
            config_path=config_path,
            is_leader=self.is_leader,
            stop_grace=stop_grace,
            kill_grace=kill_grace,
        )
        self._leading = False
        self._signal: str | None = None
        self._stop = threading.Event()
        self._started = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, name="lease-supervisor", daemon=True
        )

    def is_leader(self) -> bool:
        """True while this daemon leads and its lease is still valid by the local clock."""
        return self._leading and self.lease.held()

    def run(self) -> None:
        """Run until SIGTERM/SIGINT or stop(); blocks (call from the main thread)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        jobs.set_context(self.context)
        log.info("scheduler %s starting (%d jobs configured, lease %gs)",
                 self.lease.holder, len(self.specs), self.lease.seconds)  # fmt: skip
        self.scheduler.add_listener(lambda _e: self._started.set(), EVENT_SCHEDULER_STARTED)
        self._supervisor.start()
        try:
            self.scheduler.start(paused=True)  # returns after shutdown() in the supervisor
        finally:
            self._stop.set()
            self._supervisor.join()
            jobs.set_context(None)
        log.info("scheduler %s stopped", self.lease.holder)

    def stop(self) -> None:
        """Ask the daemon to stop (safe from any thread or a signal handler)."""
        self._stop.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # No logging here: the supervisor thread reports it, outside the signal handler.
        self._signal = signal.Signals(signum).name
        self.stop()

    def _supervise(self) -> None:
        """Lease loop: acquire/renew every third of the lease; resume or pause to match."""
        while not self._started.wait(0.2):
            if self._stop.is_set():  # the scheduler never started
                return
        interval = self.lease.seconds / 3
        while not self._stop.is_set():
            try:
                leader = self.lease.acquire()
            except Exception as exc:  # database away: keep trying, lead only while valid
                log.warning("lease renewal failed: %s", exc)
                leader = self.lease.held()
            if leader and not self._leading:
                self._take_over()
            elif not leader and self._leading:
                log.warning("lost the leader lease: pausing")
                self._leading = False
                self.scheduler.pause()
            self._stop.wait(interval)
        log.info("%s: stopping", f"received {self._signal}" if self._signal else "asked")
        self._shut_down()

    def _take_over(self) -> None:
        try:
            result = sync_jobs(self.scheduler, self.specs)
        except Exception as exc:
            # Holding the lease while firing nothing would keep a standby from leading.
            log.error("cannot sync jobs with the config (%s); releasing the lease", exc)
            try:
                self.lease.release()
            except Exception as release_exc:
                log.warning("cannot release the lease (it will expire): %s", release_exc)
            return
        log.info("leader now (%s): jobs added %s, updated %s, removed %s, unchanged %s",
                 self.lease.holder, result.added or "-", result.updated or "-",
                 result.removed or "-", result.unchanged or "-")  # fmt: skip
        self._leading = True
        self.scheduler.resume()

    def _shut_down(self) -> None:
        """Stop firing, let running crawls finish within the grace, release the lease."""
        self._leading = False
        self.context.stopping.set()
        try:
            self.scheduler.pause()
            self.scheduler.shutdown(wait=True)  # waits for running fires
        except SchedulerNotRunningError:
            pass
        finally:
            try:
                self.lease.release()
            except Exception as exc:
                log.warning("cannot release the lease (it will expire): %s", exc)
            self.archive.close()


@dataclass(frozen=True)
class ScheduleEntry:
    """One row of `schedule list`."""

    job_id: str
    site: str
    kind: str
    schedule: str
    next_fire: datetime | None
    state: str  # scheduled | pending (not in the job store yet) | stale (not in the config)
    last_fire: datetime | None
    last_status: str | None
    last_error: str | None
    last_stats: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly (ISO 8601 times)."""
        return {
            "job": self.job_id,
            "site": self.site,
            "kind": self.kind,
            "schedule": self.schedule,
            "next_fire": self.next_fire.isoformat() if self.next_fire else None,
            "state": self.state,
            "last_run": None
            if self.last_status is None
            else {
                "fire_time": self.last_fire.isoformat() if self.last_fire else None,
                "status": self.last_status,
                "error": self.last_error,
                "stats": self.last_stats,
            },
        }


def stored_jobs(archive: Archive) -> dict[str, Any]:
    """The jobs in the archive's job store by id (empty before the first `schedule run`)."""
    if not inspect(archive.engine).has_table(JOBS_TABLE):
        return {}
    store = SQLAlchemyJobStore(engine=archive.engine, tablename=JOBS_TABLE)
    return {job.id: job for job in store.get_all_jobs()}


def list_schedule(archive: Archive, specs: Sequence[JobSpec]) -> list[ScheduleEntry]:
    """Each job with its next fire time (from the job store) and its last run's result.

    Jobs only in the config are "pending" (the next `schedule run` adds them, the next fire
    time shown is the one they will get); jobs only in the store are "stale" (it drops them).
    """
    stored = stored_jobs(archive)
    wanted = {spec.id: spec for spec in specs}
    last = jobs.last_runs(archive, sorted(set(stored) | set(wanted)))
    now = datetime.now(UTC)
    entries = []
    for job_id in sorted(set(stored) | set(wanted)):
        job = stored.get(job_id)
        spec = wanted.get(job_id) or JobSpec.from_dict(stored[job_id].kwargs["spec"])
        if job is not None:
            next_fire, state = job.next_run_time, "scheduled" if job_id in wanted else "stale"
        else:
            next_fire, state = make_trigger(spec).get_next_fire_time(None, now), "pending"
        run = last.get(job_id)
        entries.append(
            ScheduleEntry(
                job_id=job_id,
                site=spec.site,
                kind=spec.kind,
                schedule=spec.trigger_label,
                next_fire=next_fire,
                state=state,
                last_fire=run.fire_time if run else None,
                last_status=run.status if run else None,
                last_error=run.error if run else None,
                last_stats=run.stats if run else None,
            )
        )
    return entries
