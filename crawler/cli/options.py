"""Options and output helpers shared by the commands (the sqlite-utils way: decorators)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any, TypeVar

import click

from crawler.cli import AppContext
from storage.errors import QueryError

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ["table", "json", "jsonl", "csv"]


def filter_options(fn: F) -> F:
    """--site/--since/--until shared by the commands that select from the archive."""
    fn = click.option("--until", help="Up to this date (exclusive end of day), e.g. 2024-05-31.")(
        fn
    )
    fn = click.option("--since", help="From this date: 2024-05-01, an ISO time, or an age: 7d.")(fn)
    return click.option("--site", help="Only this site (its key in the config).")(fn)


def parse_dates(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """--since/--until as aware datetimes (until: end of that day); since must be earlier."""
    from storage.query import parse_when

    start = parse_when(since) if since else None
    end = parse_when(until, end=True) if until else None
    if start and end and start >= end:
        raise QueryError(f"--since {since} is not before --until {until}")
    return start, end


def is_tty(stream: IO[Any] | None = None) -> bool:
    """True when the stream (stdout by default) is a terminal, not a pipe or a file."""
    stream = sys.stdout if stream is None else stream
    return bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def reading(app: AppContext) -> Iterator[Any]:
    """A read-only session on the archive (never creates one), closed afterwards."""
    archive = app.archive(readonly=True)
    try:
        with archive.session() as session:
            yield session
    finally:
        archive.close()


def emit_rows(rows: list[dict[str, Any]], fmt: str, columns: list[str]) -> None:
    """Print rows as json, jsonl or csv (table is per command)."""
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()})
