"""`newsarchive schedule run | list`: the scheduler daemon and its plan.

The config is read here and handed to schedules/ as plain job specs: schedules/ never
imports crawler/ (it starts crawls as `python -m crawler` subprocesses).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from crawler.cli import AppContext, pass_app
from crawler.cli.options import is_tty
from crawler.config import Config
from storage.durations import MAX_DURATION, parse_duration, parse_every

ENV_LEASE_SECONDS = "NEWSARCHIVE_LEASE_SECONDS"


def job_specs(config: Config, *, revisit_every: float) -> list[Any]:
    """One crawl job per site with a schedule or cron, plus a revisit job if it has a ladder."""
    from schedules.jobs import CRAWL, REVISIT, JobSpec

    specs = []
    for i, site in enumerate(config.sites):
        if site.schedule is None and site.cron is None:
            continue  # crawled by hand only
        every = parse_every(site.schedule).total_seconds() if site.schedule else None
        limit = site.time_limit_seconds
        spec = JobSpec(site.key, CRAWL, limit, every_seconds=every, cron=site.cron)
        _check_trigger(spec, f"sites[{i}].{'cron' if site.cron else 'schedule'}", config)
        specs.append(spec)
        if site.revisit:
            specs.append(JobSpec(site.key, REVISIT, limit, every_seconds=revisit_every))
    return specs


def _check_trigger(spec: Any, key: str, config: Config) -> None:
    """ConfigError naming the key when APScheduler cannot plan this job's next fire.

    Checked before the daemon takes the lease: a leader that cannot build its jobs would
    hold the lease while firing nothing, and keep a standby from taking over.
    """
    from datetime import UTC, datetime

    from crawler.config import ConfigError
    from schedules.scheduler import make_trigger

    try:
        make_trigger(spec).get_next_fire_time(None, datetime.now(UTC))
    except (ValueError, TypeError, OverflowError) as exc:
        raise ConfigError(f"{config.source or 'config'}: {key}: cannot schedule: {exc}") from None


F = TypeVar("F", bound=Callable[..., Any])


def _seconds(_ctx: click.Context, param: click.Parameter, value: str | float | None) -> float:
    """Click callback: "30s", "2m", or a bare number of seconds (at most MAX_DURATION)."""
    if value is None or isinstance(value, float):
        return float(value or 0)
    try:
        seconds = float(value)
    except ValueError:
        try:
            return parse_duration(value).total_seconds()
        except ValueError as exc:
            raise click.BadParameter(str(exc), param=param) from None
    if not 0 <= seconds <= MAX_DURATION.total_seconds():  # also NaN
        raise click.BadParameter(
            f"{value!r} is not between 0 and {MAX_DURATION.total_seconds():.0f} seconds",
            param=param,
        )
    return seconds


def duration_option(name: str, default: str, help: str, **kwargs: Any) -> Callable[[F], F]:
    """A --NAME DURATION option ("30s", "2m", or seconds), parsed by _seconds."""
    return click.option(
        name,
        default=default,
        show_default=True,
        callback=_seconds,
        metavar="DURATION",
        help=help,
        **kwargs,
    )


@click.group()
def schedule() -> None:
    """Scheduled crawls: run the scheduler daemon, list upcoming fires."""


@schedule.command("run")
@duration_option(
    "--lease-seconds",
    "30",
    "Leader lease length; a standby takes over this long after the leader dies.",
    envvar=ENV_LEASE_SECONDS,
)
@duration_option(
    "--revisit-every",
    "10m",
    "How often each site's due revisits are crawled.",
)
@duration_option(
    "--stop-grace",
    "30s",
    "On SIGTERM/SIGINT, how long a running crawl may finish before it is stopped.",
)
@duration_option(
    "--kill-grace",
    "10s",
    "Between SIGTERM and SIGKILL when a crawl has to be stopped.",
)
@duration_option(
    "--misfire-grace",
    "10m",
    "A fire missed by less than this (daemon down, crawl overran) still runs, once.",
)
@pass_app
def schedule_run(
    app: AppContext,
    lease_seconds: float,
    revisit_every: float,
    stop_grace: float,
    kill_grace: float,
    misfire_grace: float,
) -> None:
    """Run the scheduler: crawl each site on its schedule or cron, until SIGTERM/SIGINT.

    Several schedulers may run against one database; the one holding the leader lease
    fires, the others stand by and take over when it stops renewing. Config changes
    (sites added, removed, rescheduled) are picked up when the daemon (re)starts.
    Cron expressions are evaluated in UTC.

    \b
    Example:
        newsarchive --config newsarchive.toml schedule run
    """
    from schedules.scheduler import SchedulerDaemon

    if lease_seconds <= 0 or revisit_every <= 0:
        raise click.BadParameter("--lease-seconds and --revisit-every must be positive")
    _setup_logging()
    config = app.config
    specs = job_specs(config, revisit_every=revisit_every)
    if not specs:
        logging.getLogger("schedules").warning(
            "%s: no site has a schedule or cron: nothing will be crawled",
            config.source or "config",
        )
    daemon = SchedulerDaemon(
        config.archive.database_url,
        specs,
        config_path=str(Path(config.source).resolve()) if config.source else None,
        lease_seconds=lease_seconds,
        stop_grace=stop_grace,
        kill_grace=kill_grace,
        misfire_grace_seconds=misfire_grace,
    )
    daemon.run()


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # APScheduler's own INFO lines ("Running job ...") repeat ours; keep its warnings.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")


@schedule.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@duration_option(
    "--revisit-every",
    "10m",
    "As given to `schedule run`.",
)
@pass_app
def schedule_list(app: AppContext, fmt: str, revisit_every: float) -> None:
    """Show each scheduled job: its next fire time, the last run's result, the leader.

    \b
    Example:
        newsarchive schedule list --format json
    """
    from schedules.lease import current_holder
    from schedules.scheduler import list_schedule

    archive = app.archive()
    try:
        entries = list_schedule(archive, job_specs(app.config, revisit_every=revisit_every))
        lease = current_holder(archive)
    finally:
        archive.close()
    leader = lease.holder if lease and lease.is_live() else None
    if fmt == "json":
        data = {
            "leader": leader,
            "lease_expires_at": lease.expires_at.isoformat() if leader and lease else None,
            "jobs": [e.as_dict() for e in entries],
        }
        click.echo(json.dumps(data, indent=2))
        return
    _print_table(entries, leader)


def _print_table(entries: list[Any], leader: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    if not entries:
        click.echo("no scheduled jobs: no site in the config has a schedule or cron")
        click.echo(f"leader: {leader or 'none (no scheduler running)'}")
        return
    now = datetime.now(UTC)
    table = Table("job", "schedule", "next fire (UTC)", "state", "last fire", "last result")
    for e in entries:
        last = "-"
        if e.last_status is not None:
            stats = e.last_stats or {}
            new = (stats.get("articles") or {}).get("new", 0)
            last = f"{e.last_status}: {stats.get('pages', 0)} pages, {new} new"
            if e.last_error:
                last += f" ({e.last_error})"
        next_fire = _when(e.next_fire)
        if e.next_fire is not None and e.next_fire < now:
            next_fire += " (due)"  # runs when a scheduler next leads, within the misfire grace
        table.add_row(e.job_id, e.schedule, next_fire, e.state, _when(e.last_fire), last)
    console = Console(width=None if is_tty() else 160)
    console.print(table)
    console.print(f"leader: {leader or 'none (no scheduler running)'}")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def register(cli: click.Group) -> None:
    """Attach the schedule commands to the main group."""
    cli.add_command(schedule)
