"""Helpers for politeness, fault, resume and revisit tests: config edits and archive views."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crawler.demo_site import LoggedRequest
from storage.db import Archive
from storage.models import Article, CaptureRow, CrawlRun, UrlState, Version
from tests import configs


def edit_config(path: Path, site_key: str | None = None, **values: str) -> None:
    """Set keys (values given as TOML text, e.g. `revisit='["1h"]'`) in [archive]
    (site_key None) or in one [[sites]] table."""
    document = configs.read_config(path)
    table = document["archive"] if site_key is None else configs.site_of(document, site_key)
    table.update({k: configs.toml_table(f"v = {v}")["v"] for k, v in values.items()})
    configs.rewrite(path, document)


def add_start_url(path: Path, site_key: str, url: str) -> None:
    """Put `url` first among one site's start_urls."""
    document = configs.read_config(path)
    site = configs.site_of(document, site_key)
    site["start_urls"] = [url, *site["start_urls"]]
    configs.rewrite(path, document)


def snapshot(db_url: str) -> dict[str, Any]:
    """What a user could check of each article: its fields and every version."""
    with Archive(db_url) as archive, archive.session() as s:
        versions: dict[int, list[tuple[Any, ...]]] = {}
        for v in s.scalars(select(Version).order_by(Version.article_id, Version.n)):
            versions.setdefault(v.article_id, []).append(
                (v.n, v.content_hash, v.title, v.extraction_id, v.first_seen_at)
            )
        return {
            a.canonical_url: (
                a.current_version,
                a.title,
                a.text,
                a.first_seen_at,
                a.last_changed_at,
                versions.get(a.id, []),
            )
            for a in s.scalars(select(Article))
        }


def articles(db_url: str) -> dict[str, Article]:
    """Every archived article by canonical URL."""
    with Archive(db_url) as archive, archive.session() as s:
        return {a.canonical_url: a for a in s.scalars(select(Article))}


def url_states(db_url: str) -> dict[str, UrlState]:
    """Every url_state row by URL."""
    with Archive(db_url) as archive, archive.session() as s:
        return {u.url: u for u in s.scalars(select(UrlState))}


def captures(db_url: str) -> list[CaptureRow]:
    """Every capture row, oldest first."""
    with Archive(db_url) as archive, archive.session() as s:
        return list(s.scalars(select(CaptureRow).order_by(CaptureRow.id)))


def runs(db_url: str) -> list[CrawlRun]:
    """Every crawl run, oldest first."""
    with Archive(db_url) as archive, archive.session() as s:
        return list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def last_run(db_url: str) -> CrawlRun:
    """The newest crawl run."""
    return runs(db_url)[-1]


def error_counts(run: CrawlRun) -> dict[str, int]:
    """crawl_runs.stats["errors"] of a run."""
    assert run.stats is not None, f"run {run.id} has no stats"
    errors: dict[str, int] = run.stats.get("errors", {})
    return errors


def summary_errors(stdout: str) -> dict[str, int]:
    """Parse the `crawl` summary's "errors: kind=n, ..." lines."""
    out: dict[str, int] = {}
    for line in stdout.splitlines():
        if line.strip().startswith("errors:"):
            for part in line.split(":", 1)[1].split(","):
                kind, _, n = part.strip().partition("=")
                out[kind] = out.get(kind, 0) + int(n)
    return out


def gaps(entries: Iterable[LoggedRequest]) -> list[float]:
    """Seconds between consecutive logged requests."""
    times = [e.time for e in entries]
    return [b - a for a, b in itertools.pairwise(times)]


def is_conditional(entry: LoggedRequest) -> bool:
    """True when a request carried If-None-Match or If-Modified-Since."""
    names = {k.lower() for k in entry.headers}
    return bool(names & {"if-none-match", "if-modified-since"})


def sqlite_path(db_url: str) -> Path:
    """The file of a sqlite:/// URL."""
    return Path(db_url.removeprefix("sqlite:///"))


def count_rows(db_file: Path, table: str) -> int:
    """Rows in a table, read-only and never blocking the writer; 0 before the table exists."""
    try:
        conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=1)
    except sqlite3.OperationalError:
        return 0
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll until condition() is true or timeout seconds pass; returns the last result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def aware(value: datetime) -> datetime:
    """Refuse naive datetimes: the archive stores UTC-aware values."""
    assert value.tzinfo is not None, f"naive datetime from the archive: {value!r}"
    return value
