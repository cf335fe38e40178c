"""The crawl_runs lifecycle, in one place: claim a scheduled fire, open, finish, settle.

A run row is created by the scheduler when it claims a fire (`claim_fire`, unique on
schedule_id + fire_time, so a fire runs once) or by the crawl process itself (`open_run`);
the crawl process takes a claimed row over, and writes the outcome when it ends
(`finish_run`). Rows of processes that died without writing it are settled by the next
crawl on the same host (`settle_dead_runs`) or by the scheduler that started them
(`settle_fire`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db import insert_for
from storage.models import CrawlRun

RUNNING, OK, FAILED, KILLED = "running", "ok", "failed", "killed"


def claim_fire(
    session: Session, site: str, *, trigger: str, schedule_id: str, fire_time: datetime
) -> int | None:
    """Insert a scheduled fire's row (status running); None when the fire is already taken."""
    return session.execute(
        insert_for(session, CrawlRun)
        .values(
            site=site,
            trigger=trigger,
            schedule_id=schedule_id,
            fire_time=fire_time,
            status=RUNNING,
            started_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing()
        .returning(CrawlRun.id)
    ).scalar()


def open_run(
    session: Session,
    site: str,
    *,
    trigger: str,
    host: str,
    pid: int,
    schedule_id: str | None = None,
    fire_time: datetime | None = None,
    run_id: int | None = None,
) -> int:
    """Start a run of `site` in this process: take over row `run_id` (a claimed fire), or
    insert a new one. Returns the run's id."""
    if run_id is not None:
        session.execute(
            update(CrawlRun).where(CrawlRun.id == run_id).values(status=RUNNING, host=host, pid=pid)
        )
        return run_id
    row = CrawlRun(
        site=site,
        trigger=trigger,
        schedule_id=schedule_id,
        fire_time=fire_time,
        status=RUNNING,
        host=host,
        pid=pid,
    )
    session.add(row)
    session.flush()
    return row.id


def finish_run(
    session: Session, run_id: int, *, status: str, stats: dict[str, Any], error: str | None
) -> None:
    """Write a run's outcome (ok | failed | killed), its counters and its error."""
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(status=status, finished_at=datetime.now(UTC), stats=stats, error=error)
    )


def fail_runs(session: Session, run_ids: Iterable[int], error: str) -> None:
    """Mark runs that could not start as failed."""
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.id.in_(list(run_ids)))
        .values(status=FAILED, finished_at=datetime.now(UTC), error=error)
    )


def settle_dead_runs(session: Session, host: str, me: int, alive: Callable[[int], bool]) -> int:
    """Mark `running` rows of this host whose process is gone (SIGKILL, power loss) killed."""
    stale = session.scalars(
        select(CrawlRun).where(CrawlRun.status == RUNNING, CrawlRun.host == host)
    ).all()
    settled = 0
    for run in stale:
        if run.pid is not None and run.pid != me and not alive(run.pid):
            run.status = KILLED
            run.finished_at = datetime.now(UTC)
            run.error = f"process {run.pid} died before finishing"
            settled += 1
    return settled


def last_crawl_completed(session: Session, site: str) -> bool:
    """Did the site's last finished crawl (revisit-only runs aside) end ok?

    Only then may the next crawl stop paginating early: after a crash it finishes the work.
    """
    last = session.scalars(
        select(CrawlRun)
        .where(CrawlRun.site == site, CrawlRun.status != RUNNING, CrawlRun.trigger != "revisit")
        .order_by(CrawlRun.id.desc())
        .limit(1)
    ).first()
    return last is not None and last.status == OK


def settle_fire(
    session: Session, run_id: int, *, stop_reason: str | None, failure: str | None
) -> CrawlRun:
    """After a scheduled crawl's process ended: the scheduler writes the outcome when it
    stopped the crawl (`stop_reason`), or when the process died without writing one."""
    row = session.get(CrawlRun, run_id)
    if row is None:
        raise LookupError(f"crawl_runs row {run_id} vanished")
    values: dict[str, Any] = {}
    if stop_reason is not None:
        values = {"status": KILLED, "error": stop_reason}
    elif row.status == RUNNING:
        values = {"status": FAILED, "error": failure}
    if values:
        values["finished_at"] = datetime.now(UTC)
        session.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.refresh(row)
    return row


def last_runs(session: Session, schedule_ids: list[str]) -> dict[str, CrawlRun]:
    """The most recent row of each schedule id (by fire time)."""
    latest: dict[str, CrawlRun] = {}
    if not schedule_ids:
        return latest
    rows = session.scalars(
        select(CrawlRun)
        .where(CrawlRun.schedule_id.in_(schedule_ids))
        .order_by(CrawlRun.fire_time.desc(), CrawlRun.id.desc())
    )
    for row in rows:
        latest.setdefault(row.schedule_id or "", row)
    return latest
