"""`newsarchive reextract`: run the current extractor over stored captures (no network)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from crawler.cli import AppContext, pass_app
from crawler.cli.options import filter_options, is_tty, parse_dates
from storage.errors import QueryError


@click.command()
@filter_options
@click.option(
    "--workers", type=click.IntRange(1, 256), help="Extraction processes (default: all cores)."
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a trafilatura option, e.g. favor_recall=true or prune_xpath=//aside "
    "(recorded in the extractor_id).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--batch-size", type=click.IntRange(1), hidden=True, help="Captures per commit.")
@pass_app
def reextract(
    app: AppContext,
    site: str | None,
    since: str | None,
    until: str | None,
    workers: int | None,
    dry_run: bool,
    options: tuple[str, ...],
    fmt: str,
    batch_size: int | None,
) -> None:
    """Re-run the current extractor over stored article captures (no network) and rebuild versions.

    --since/--until select captures by fetch time. Resumable (run it again after an
    interruption) and idempotent (a second run changes nothing).

    \b
    Example:
        newsarchive reextract --site ledger --since 2024-01-01 --dry-run
    """
    from crawler import reextract as rx

    start, end = parse_dates(since, until)
    try:
        opts = rx.parse_options(options)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    archive = app.archive(create=False)
    progress = _Progress(dry_run)
    try:
        report = rx.reextract(
            archive,
            app.config.archive.warc_dir,
            site=site,
            since=start,
            until=end,
            workers=workers,
            dry_run=dry_run,
            options=opts,
            batch_size=batch_size,
            progress=progress.update,
        )
    finally:
        progress.stop()
        archive.close()
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(report.format())


class _Progress:
    """A rich bar on a terminal (stderr); a plain line every 10% or 30 s otherwise."""

    def __init__(self, dry_run: bool) -> None:
        self.bar: Any = None
        self.task: Any = None
        self.last_line = 0.0
        self.last_share = -1
        self.label = "re-extracting (dry run)" if dry_run else "re-extracting"

    def update(self, done: int, total: int) -> None:
        if is_tty(sys.stderr):
            if self.bar is None:
                from rich.console import Console
                from rich.progress import Progress

                self.bar = Progress(console=Console(stderr=True), transient=True)
                self.bar.start()
                self.task = self.bar.add_task(self.label, total=total)
            self.bar.update(self.task, completed=done, total=total)
            return
        share = done * 10 // total if total else 10
        now = time.monotonic()
        if share != self.last_share or now - self.last_line > 30:
            click.echo(f"{self.label}: {done}/{total} captures", err=True)
            self.last_share, self.last_line = share, now

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def register(cli: click.Group) -> None:
    """Attach the reextract command to the top-level group."""
    cli.add_command(reextract)
