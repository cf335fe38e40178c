"""What one fire of a scheduled job does: claim the fire, run the crawl as a subprocess, record.

A fire is claimed by inserting its `crawl_runs` row, unique on (schedule_id, fire_time):
a second scheduler firing the same planned time hits the constraint and skips, so a crawl
never runs twice for one fire even if leader election ever failed. The crawl itself is
`python -m crawler crawl SITE --run-id N` (Twisted's reactor cannot restart in one process);
it takes the row over and writes its own result. This module only steps in when the child
cannot: time limit exceeded, scheduler stopping, crash or SIGKILL.

Job functions are module-level and take plain data, because the SQLAlchemy job store
pickles them; what belongs to the running daemon (database, config path, leadership,
stop signal) comes from `JobContext`, registered with `set_context()`.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from storage import runs
from storage.db import Archive
from storage.models import CrawlRun

log = logging.getLogger("schedules")

CRAWL = "crawl"
REVISIT = "revisit"
# How often a supervised crawl is checked for its deadline and for the scheduler stopping.
POLL_SECONDS = 0.25


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job as plain data: which site, what kind of crawl, when, for how long.

    Exactly one of `every_seconds` (an interval anchored at the epoch, so every scheduler
    plans the same fire times) and `cron` (5 fields, in UTC) is set.
    """

    site: str
    kind: str  # CRAWL | REVISIT
    time_limit_seconds: float
    every_seconds: float | None = None
    cron: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in (CRAWL, REVISIT):
            raise ValueError(f"unknown job kind {self.kind!r}")
        if (self.every_seconds is None) == (self.cron is None):
            raise ValueError(f"job for {self.site!r} needs exactly one of every_seconds, cron")

    @property
    def id(self) -> str:
        """The job id, also the crawl_runs.schedule_id of its fires: "crawl:SITE"."""
        return f"{self.kind}:{self.site}"

    @property
    def trigger_label(self) -> str:
        """The schedule in words, for tables and logs."""
        if self.cron is not None:
            return f"cron {self.cron} (UTC)"
        return f"every {format_seconds(self.every_seconds or 0)}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the job store's pickles."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobSpec:
        """Rebuild from `to_dict()` output; keys from other versions are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def format_seconds(seconds: float) -> str:
    """60 -> "1m", 5400 -> "90m", 7200 -> "2h", 2.5 -> "2.5s"."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass
class JobContext:
    """What fires need from the running daemon; never pickled."""

    archive: Archive
    config_path: str | None
    is_leader: Callable[[], bool]
    stop_grace: float = 30.0  # a running crawl's time to finish once the daemon stops
    kill_grace: float = 10.0  # between SIGTERM and SIGKILL
    python: str = sys.executable
    stopping: threading.Event = field(default_factory=threading.Event)
    _site_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _locks_lock: threading.Lock = field(default_factory=threading.Lock)

    def site_lock(self, site: str) -> threading.Lock:
        """One lock per site, so a revisit crawl never runs beside the site's full crawl."""
        with self._locks_lock:
            return self._site_locks.setdefault(site, threading.Lock())


_context: JobContext | None = None


def set_context(context: JobContext | None) -> None:
    """Register the running daemon's context (None to clear it)."""
    global _context
    _context = context


@dataclass(frozen=True)
class FireResult:
    """What became of one fire."""

    job_id: str
    fire_time: datetime
    run_id: int | None  # None when the fire was skipped
    status: str  # ok | failed | killed | skipped
    detail: str


def fire(spec: dict[str, Any], fire_time: datetime | None = None) -> FireResult:
    """The job function: run one fire of a job (fire_time is the trigger's planned time)."""
    job = JobSpec.from_dict(spec)
    planned = fire_time or datetime.now(UTC)
    ctx = _context
    if ctx is None:
        return _skip(job, planned, "no scheduler context in this process")
    lock = ctx.site_lock(job.site)
    if job.kind == REVISIT:
        if not lock.acquire(blocking=False):
            return _skip(job, planned, f"a crawl of {job.site} is running (it revisits too)")
    else:
        lock.acquire()
    try:
        # Checked after the (possibly long) wait for the lock: leadership may have moved.
        if ctx.stopping.is_set():
            return _skip(job, planned, "scheduler is stopping")
        if not ctx.is_leader():
            return _skip(job, planned, "this scheduler does not hold the leader lease")
        run_id = claim_fire(ctx.archive, job, planned)
        if run_id is None:
            return _skip(job, planned, "another scheduler already took this fire")
        log.info("%s fire %s: run %d starting", job.id, _iso(planned), run_id)
        return run_crawl_process(ctx, job, planned, run_id)
    finally:
        lock.release()


def _skip(job: JobSpec, planned: datetime, why: str) -> FireResult:
    log.info("%s fire %s: skipped: %s", job.id, _iso(planned), why)
    return FireResult(job.id, planned, None, "skipped", why)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def claim_fire(archive: Archive, job: JobSpec, fire_time: datetime) -> int | None:
    """Insert the fire's crawl_runs row (status running); None when the fire is already taken."""
    with archive.session() as s:
        return runs.claim_fire(
            s,
            job.site,
            trigger="schedule" if job.kind == CRAWL else "revisit",
            schedule_id=job.id,
            fire_time=fire_time,
        )


def crawl_command(ctx: JobContext, job: JobSpec, fire_time: datetime, run_id: int) -> list[str]:
    """The `newsarchive crawl` command line for one fire (database URL goes in the env)."""
    cmd = [ctx.python, "-m", "crawler"]
    if ctx.config_path:
        cmd += ["--config", ctx.config_path]
    cmd += ["crawl", job.site, "--schedule-id", job.id, "--run-id", str(run_id)]
    cmd += ["--fire-time", fire_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")]
    if job.kind == REVISIT:
        cmd += ["--trigger", "revisit", "--only-revisits"]
    else:
        cmd += ["--trigger", "schedule"]
    return cmd


def run_crawl_process(
    ctx: JobContext, job: JobSpec, fire_time: datetime, run_id: int
) -> FireResult:
    """Run the crawl subprocess under the time limit; make sure its row ends finished."""
    # The URL travels in the environment, not argv, so a password never shows in `ps`.
    env = {**os.environ, "NEWSARCHIVE_DATABASE_URL": ctx.archive.url, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            crawl_command(ctx, job, fire_time, run_id),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            # Own session: a Ctrl-C at the daemon's terminal must not interrupt the crawl
            # (the daemon decides: finish within the grace, else stop it).
            start_new_session=True,
        )
    except OSError as exc:
        failure = f"cannot start the crawl: {exc}"
        return _finish(ctx, job, fire_time, run_id, started, None, None, failure)
    stop_reason, out = _supervise(ctx, job, proc, started)
    try:
        # Whatever the crawl left in its process group (extraction workers after a crash).
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for line in out.splitlines():
        if line.strip():
            log.info("%s run %d: %s", job.id, run_id, line.strip())
    return _finish(ctx, job, fire_time, run_id, started, proc.returncode, stop_reason)


def _supervise(
    ctx: JobContext, job: JobSpec, proc: subprocess.Popen[str], started: float
) -> tuple[str | None, str]:
    """Wait for the crawl, stopping it past its time limit or the stop grace.

    Returns why it was stopped (None when it ended by itself) and its output.
    """
    deadline = started + job.time_limit_seconds
    stop_deadline: float | None = None
    while True:
        try:
            # Retrying communicate() after a timeout loses no output.
            out, _ = proc.communicate(timeout=POLL_SECONDS)
            return None, out or ""
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if ctx.stopping.is_set() and stop_deadline is None:
            stop_deadline = now + ctx.stop_grace
            log.info("%s: scheduler stopping, crawl gets %gs to finish", job.id, ctx.stop_grace)
        reason = None
        if now >= deadline:
            reason = f"time limit {format_seconds(job.time_limit_seconds)} exceeded"
        elif stop_deadline is not None and now >= stop_deadline:
            reason = "scheduler stopped before the crawl finished"
        if reason:
            log.warning("%s: %s: stopping crawl (pid %d)", job.id, reason, proc.pid)
            return reason, _terminate(proc, ctx.kill_grace)


def _terminate(proc: subprocess.Popen[str], grace: float) -> str:
    """SIGTERM (Scrapy closes the spider and records the run), SIGKILL the group after grace."""
    try:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=grace)
        return out or ""
    except subprocess.TimeoutExpired:
        pass
    try:
        # The whole group: extraction worker processes must not outlive the crawl.
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    out, _ = proc.communicate()
    return out or ""


def _finish(
    ctx: JobContext,
    job: JobSpec,
    fire_time: datetime,
    run_id: int,
    started: float,
    returncode: int | None,
    stop_reason: str | None,
    failure: str | None = None,
) -> FireResult:
    """Settle the row: ours to write when we stopped the crawl or it died without writing."""
    with ctx.archive.session() as s:
        row = runs.settle_fire(
            s,
            run_id,
            stop_reason=stop_reason,
            failure=None if stop_reason else failure or _exit_description(returncode),
        )
        status, error, stats = row.status, row.error, row.stats or {}
    detail = _describe(stats, error)
    elapsed = time.monotonic() - started
    level = logging.INFO if status == "ok" else logging.WARNING
    log.log(level, "%s fire %s: run %d %s in %.1fs: %s", job.id, _iso(fire_time), run_id,
            status, elapsed, detail)  # fmt: skip
    return FireResult(job.id, fire_time, run_id, status, detail)


def _exit_description(returncode: int | None) -> str:
    if returncode is None:
        return "crawl did not start"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"crawl process killed by {name} without recording its run"
    return f"crawl process exited with code {returncode} without recording its run"


def _describe(stats: dict[str, Any], error: str | None) -> str:
    articles = stats.get("articles") or {}
    parts = [f"{stats.get('pages', 0)} pages", f"{articles.get('new', 0)} new articles"]
    if error:
        parts.append(error)
    return ", ".join(parts)


def last_runs(archive: Archive, schedule_ids: list[str]) -> dict[str, CrawlRun]:
    """The most recent crawl_runs row of each schedule id (by fire time)."""
    with archive.session() as s:
        return runs.last_runs(s, schedule_ids)
