"""Per-process crawl services: archive writer, read-only lookups, extraction pool, run stats.

One `CrawlServices` is shared by every spider of a crawl process. The runner creates it
and hands it to each spider; Scrapy components take it from their crawler's spider
(`services_of`) in `from_crawler`.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler import internals
from crawler.config import Config
from crawler.pool import new_pool, warm
from crawler.writer import ArchiveWriter, CaptureFuture
from storage import url_state
from storage.db import Archive, is_postgresql
from storage.warc import WarcStore

log = logging.getLogger(__name__)


@dataclass
class RunCounters:
    """Counters of one site's crawl run, shown in the summary and stored in crawl_runs.stats."""

    pages: int = 0
    articles_new: int = 0
    articles_changed: int = 0
    articles_unchanged: int = 0
    articles_skipped: int = 0
    captures: int = 0
    revisits_due: int = 0
    incremental_stops: int = 0
    recovered: int = 0
    articles_known: int = 0
    auto_sources: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        """Increment a counter (thread-safe)."""
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def error(self, kind: str) -> None:
        """Count an error of this kind."""
        with self.lock:
            self.errors[kind] += 1

    def as_dict(self) -> dict[str, Any]:
        """The JSON stored in crawl_runs.stats."""
        with self.lock:
            return {
                "pages": self.pages,
                "captures": self.captures,
                "articles": {
                    "new": self.articles_new,
                    "changed": self.articles_changed,
                    "unchanged": self.articles_unchanged,
                    "skipped": self.articles_skipped,
                },
                "revisits_due": self.revisits_due,
                "incremental_stops": self.incremental_stops,
                "recovered_from_warc": self.recovered,
                "known_not_due": self.articles_known,
                "auto_sources": self.auto_sources,
                "errors": dict(sorted(self.errors.items())),
            }


def services_of(crawler: Any) -> CrawlServices | None:
    """The services of this crawler's spider (None for a spider that has none)."""
    services = getattr(getattr(crawler, "spider", None), "services", None)
    return services if isinstance(services, CrawlServices) else None


class CrawlServices:
    """Everything a crawl process shares between its spiders."""

    def __init__(self, config: Config, *, run_ids: dict[str, int] | None = None) -> None:
        self.config = config
        archive_cfg = config.archive
        self.archive = Archive(archive_cfg.database_url)
        self.reader_archive = Archive(archive_cfg.database_url, migrate=False, readonly=True)
        self.warc = WarcStore(
            Path(archive_cfg.warc_dir),
            max_file_size=archive_cfg.warc_max_size_mb * 1024 * 1024,
        )
        ladders = {s.key: s.revisit_ladder for s in config.sites}
        # On PostgreSQL several workers may lock the same articles: one job per transaction,
        # so a deadlock victim is retried in a fresh transaction that holds no other locks.
        batch = 1 if is_postgresql(self.archive.engine) else 64
        self.writer = ArchiveWriter(
            self.archive, self.warc, revisit_ladder=ladders, batch_size=batch
        )
        self.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-reader")
        self.workers = archive_cfg.extraction_workers or os.cpu_count() or 1
        self.pool = self._new_pool()
        warm(self.pool, self.workers)
        self.run_ids: dict[str, int] = dict(run_ids or {})
        # The capture future of each downloaded request, for the spider to hand on. Kept out
        # of request.meta so that queued requests stay serialisable (scrapy-redis pickles them).
        self.captures: weakref.WeakKeyDictionary[Any, CaptureFuture] = weakref.WeakKeyDictionary()
        self.frontiers: dict[str, Any] = {}  # spider name -> FrontierScheduler (Redis mode)
        self.stats: dict[str, RunCounters] = {}
        self._closed = False

    def _new_pool(self) -> ProcessPoolExecutor:
        return new_pool(self.workers)

    def restart_pool(self, old: ProcessPoolExecutor | None = None, *, kill: bool = False) -> None:
        """Replace the extraction pool (a worker died, or hangs: `kill` ends its workers).

        `old` is the pool the caller used: if another coroutine replaced it already,
        nothing more happens.
        """
        old = old or self.pool
        if old is not self.pool:
            return
        self.pool = self._new_pool()
        if kill:
            internals.terminate_workers(old)
        old.shutdown(wait=False, cancel_futures=True)

    def site_stats(self, site: str) -> RunCounters:
        """The counters of `site` in this run."""
        return self.stats.setdefault(site, RunCounters())

    def lookup(self, urls: list[str]) -> Future[dict[str, url_state.UrlInfo]]:
        """Ask the archive (off the event loop) what it knows about these URLs."""

        def run() -> dict[str, url_state.UrlInfo]:
            with self.reader_archive.sessions() as s:
                return url_state.lookup(s, urls)

        return self.reader.submit(run)

    def due_revisits(self, site: str, now: Any, limit: int = 1000) -> Future[list[str]]:
        """Article URLs of the site whose revisit is due."""

        def run() -> list[str]:
            with self.reader_archive.sessions() as s:
                return url_state.due_revisits(s, site, now, limit)

        return self.reader.submit(run)

    def close(self) -> None:
        """Drain the writer, stop the pools, close files and connections."""
        if self._closed:
            return
        self._closed = True
        self.writer.close()
        self.reader.shutdown(wait=True)
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.reader_archive.close()
        self.archive.close()
