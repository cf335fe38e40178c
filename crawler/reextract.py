"""Re-extraction: stored captures -> the current extractor -> new extraction rows -> versions.

No network: every page is read back from WARC by (file, offset) inside the worker process,
so only small tuples cross process boundaries. The path from stored bytes to records is
the crawl's: the same pool (crawler.pool: forkserver, preloaded extractor, workers that die
with this process), the same `extract_with_fingerprints` (options passed per call, never
set globally), then `storage.ingest` rules (through `storage.rebuild`, which replays an
article's captures through `versioning.add_version`).

Resumable and idempotent by construction: a capture is pending while it has no extraction
by the current extractor_id; each batch's extraction rows and the rebuild of the articles
they belong to commit in one transaction. A killed run leaves whole batches done or not
done; the next run picks up the rest (and rebuilds any article left pointing at an older
extraction). A run with nothing pending changes nothing.
"""

from __future__ import annotations

import hashlib
import os
from array import array
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from crawler.pool import (
    CaptureTask,
    new_pool,
    reextract_setup,
    reextract_tasks,
    start_forkserver,
    warm,
)
from storage import fingerprints, ingest
from storage.db import Archive
from storage.models import CaptureRow
from storage.rebuild import (
    PreviousExtraction,
    add_extractions,
    captures_with_feed_dates,
    pending_captures,
    previous_extractions,
    rebuild_articles,
    stale_articles,
)
from storage.records import Capture, Extracted, Outcome

# Options that change what trafilatura keeps; anything else is refused before a run starts.
ALLOWED_OPTIONS = frozenset(
    {
        "favor_precision",
        "favor_recall",
        "include_comments",
        "include_tables",
        "include_images",
        "include_formatting",
        "include_links",
        "deduplicate",
    }
)
# Options with a text value: prune_xpath drops page elements (e.g. a boilerplate box).
STRING_OPTIONS = frozenset({"prune_xpath"})
MAX_EXTRACTOR_ID = 100
FIELDS = ("title", "date", "authors", "body")
_CHUNK = 8  # captures per task: amortises pickling and scheduling over a few pages


@dataclass
class Report:
    """What a re-extraction did (or, with dry_run, would do)."""

    extractor_id: str
    dry_run: bool = False
    pending: int = 0
    processed: int = 0
    up_to_date: int = 0
    errors: int = 0
    read_errors: int = 0
    new_articles: int = 0
    fields_changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    articles: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> (old, new)

    @property
    def merged(self) -> dict[int, tuple[int, int]]:
        """Articles that now have fewer versions."""
        return {a: v for a, v in self.articles.items() if v[1] < v[0]}

    @property
    def split(self) -> dict[int, tuple[int, int]]:
        """Articles that now have more versions."""
        return {a: v for a, v in self.articles.items() if v[1] > v[0]}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "extractor_id": self.extractor_id,
            "dry_run": self.dry_run,
            "captures_processed": self.processed,
            "captures_up_to_date": self.up_to_date,
            "extraction_errors": self.errors,
            "warc_read_errors": self.read_errors,
            "new_articles": self.new_articles,
            "fields_changed": self.fields_changed,
            "articles_rebuilt": len(self.articles),
            "versions_merged": {str(a): list(v) for a, v in sorted(self.merged.items())},
            "versions_split": {str(a): list(v) for a, v in sorted(self.split.items())},
        }

    def format(self, limit: int = 20) -> str:
        """The human report printed by `newsarchive reextract`."""
        verb = "would change" if self.dry_run else "changed"
        lines = [
            f"extractor {self.extractor_id}{' (dry run: nothing written)' if self.dry_run else ''}",
            f"captures processed: {self.processed} ({self.up_to_date} already up to date, "
            f"{self.errors} extraction errors, {self.read_errors} unreadable)",
            "fields " + verb + ": " + ", ".join(f"{k} {v}" for k, v in self.fields_changed.items()),
            f"articles rebuilt: {len(self.articles)}, new articles: {self.new_articles}",
        ]
        for label, group in (("merged", self.merged), ("split", self.split)):
            lines.append(f"versions {label}: {len(group)} articles")
            for a, (old, new) in sorted(group.items())[:limit]:
                lines.append(f"  article {a}: {old} -> {new} versions")
            if len(group) > limit:
                lines.append(f"  … and {len(group) - limit} more")
        return "\n".join(lines)


def extractor_id_for(options: dict[str, Any] | None) -> str:
    """The extractor_id of the current extractor run with these trafilatura options."""
    from crawler.extraction import EXTRACTOR_ID, TRAFILATURA_OPTIONS

    changed = {k: v for k, v in sorted((options or {}).items()) if TRAFILATURA_OPTIONS.get(k) != v}
    if not changed:
        return EXTRACTOR_ID
    spec = ",".join(
        f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in changed.items()
    )
    full = f"{EXTRACTOR_ID}+{spec}"
    if len(full) <= MAX_EXTRACTOR_ID:
        return full
    # extractions.extractor_id is VARCHAR(100): long option values are named by their hash.
    return f"{EXTRACTOR_ID}+opts-{hashlib.sha1(spec.encode()).hexdigest()[:12]}"


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """`include_comments=true` / `prune_xpath=//aside` pairs -> options; ValueError if bad."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if key not in ALLOWED_OPTIONS and key not in STRING_OPTIONS:
            known = ", ".join(sorted(ALLOWED_OPTIONS | STRING_OPTIONS))
            raise ValueError(f"unknown extraction option {key!r}: use one of {known}")
        if not sep or not value.strip():
            raise ValueError(f"option {pair!r}: give a value, e.g. {key}=...")
        if key in STRING_OPTIONS:
            out[key] = value.strip()
            continue
        flag = value.strip().lower()
        if flag not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"option {pair!r}: {key} is true or false")
        out[key] = flag in ("true", "1", "yes")
    return out


# -- main process -------------------------------------------------------------------------


def _batches(keys: array[int], ids: array[int], size: int) -> Iterator[list[tuple[int, int]]]:
    """Batches of about `size` captures that never split one article's captures."""
    batch: list[tuple[int, int]] = []
    for k, cid in zip(keys, ids, strict=True):
        if len(batch) >= size and k != batch[-1][0]:
            yield batch
            batch = []
        batch.append((k, cid))
    if batch:
        yield batch


def reextract(
    archive: Archive,
    warc_dir: str | Path,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    workers: int | None = None,
    dry_run: bool = False,
    options: dict[str, Any] | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Re-extract stored article captures with the current extractor; rebuild their versions.

    `options` override trafilatura options (the extractor_id records them). `progress`
    is called with (done, total) after each batch. Returns the report.
    """
    opts = dict(options or {})
    # The forkserver's preload imports the extractor, and so does extractor_id_for in this
    # process: started first, the two imports run on two cores at once.
    start_forkserver()
    extractor_id = extractor_id_for(opts)
    report = Report(extractor_id, dry_run=dry_run)
    workers = max(1, workers or os.cpu_count() or 1)
    size = batch_size or max(64, 32 * workers)
    with (
        new_pool(workers, reextract_setup, (str(warc_dir), opts, extractor_id)) as pool,
        # Planning reads on a deferred-BEGIN engine, so a running crawl is not blocked meanwhile.
        Archive(archive.url, migrate=False, readonly=True) as reader,
    ):
        with reader.sessions() as s:
            keys, ids, report.up_to_date = pending_captures(
                s, extractor_id, site=site, since=since, until=until
            )
        report.pending = len(ids)
        if ids:  # nothing pending (the usual scheduled run): no worker is started
            # The workers' start takes a few tenths of a second of one core: started now,
            # it overlaps reading the first batch's captures.
            warm(pool, workers)
        done = 0
        if progress:
            progress(0, report.pending)
        in_flight: list[_Batch] = []
        for batch in _batches(keys, ids, size):
            with reader.sessions() as s:
                rows = captures_with_feed_dates(s, [cid for _, cid in batch])
            jobs = [_task(c, feed) for c, feed in rows]
            futures = [
                pool.submit(reextract_tasks, jobs[i : i + _CHUNK])
                for i in range(0, len(jobs), _CHUNK)
            ]
            captures = {c.id: ingest.capture_from_row(c) for c, _ in rows}
            in_flight.append(_Batch(batch, captures, futures))
            # Keep the next batch extracting while this one is written.
            if len(in_flight) > 1:
                done += _write(archive, in_flight.pop(0), report)
                if progress:
                    progress(done, report.pending)
        while in_flight:
            done += _write(archive, in_flight.pop(0), report)
            if progress:
                progress(done, report.pending)
    _finish_stale(archive, site, report)
    return report


@dataclass
class _Batch:
    """Captures sent to the pool together and written in one transaction."""

    keys: list[tuple[int, int]]  # (article id or 0, capture id), the article's captures together
    captures: dict[int, Capture]
    futures: list[Future[Any]]


def _write(archive: Archive, batch: _Batch, report: Report) -> int:
    """Store one batch's extractions and rebuild its articles, in one transaction."""
    results: dict[int, Extracted | None] = {}
    for fut in batch.futures:
        results.update(fut.result())
    with archive.sessions() as s:
        s.begin()
        articles: dict[int, None] = {}
        orphans: list[int] = []
        known: list[tuple[int, Extracted]] = []
        previous = previous_extractions(s, list(results), report.extractor_id)
        for key, cid in batch.keys:
            extracted = results.get(cid)
            if extracted is None:
                report.read_errors += 1
                continue
            report.processed += 1
            if extracted.error:
                report.errors += 1
            _count_changes(report, previous.get(cid), extracted)
            if key:
                known.append((cid, extracted))
                articles[key] = None
            else:
                orphans.append(cid)
        add_extractions(s, known)
        _rebuild(s, list(articles), report)
        for cid in orphans:
            _record_orphan(s, batch.captures[cid], cid, results[cid], report)
        if report.dry_run:
            s.rollback()
        else:
            s.commit()
    return len(batch.keys)


def _rebuild(s: Session, article_ids: list[int], report: Report) -> None:
    for result in rebuild_articles(s, article_ids, report.extractor_id):
        first = report.articles.get(result.article_id, (result.old_versions, 0))[0]
        report.articles[result.article_id] = (first, result.new_versions)


def _task(c: CaptureRow, feed_date: datetime | None) -> CaptureTask:
    return CaptureTask(
        c.id, c.warc_file, c.warc_offset, c.final_url or c.url, c.fetched_at, c.status,
        c.content_type, feed_date,
    )  # fmt: skip


def _record_orphan(
    s: Session, capture: Capture, capture_id: int, extracted: Extracted | None, report: Report
) -> None:
    """A capture that never made an article: record it the way the crawl would."""
    if extracted is None:
        return
    result = ingest.record(s, capture, extracted, capture_id=capture_id)
    if result.outcome == Outcome.NEW:
        report.new_articles += 1


def _count_changes(report: Report, old: PreviousExtraction | None, new: Extracted) -> None:
    if old is None:
        return
    changes = {
        "title": _differs(old.title, new.title),
        "date": old.published_at != (new.published.value if new.published else None),
        "authors": list(old.authors or []) != list(new.authors),
        "body": _differs(old.text, new.text),
    }
    for name, changed in changes.items():
        report.fields_changed[name] += changed


def _differs(old: str | None, new: str | None) -> bool:
    """True when the texts differ once normalised (fingerprints.normalize_text)."""
    # Equal strings normalise alike; most fields of a re-extraction come out unchanged, and
    # comparing is far cheaper than normalising a whole body twice on the main process.
    if old == new:
        return False
    return fingerprints.normalize_text(old) != fingerprints.normalize_text(new)


def _finish_stale(archive: Archive, site: str | None, report: Report) -> None:
    """Rebuild articles an interrupted (or switched-back) run left on older extractions."""
    if report.dry_run:
        return
    with archive.sessions() as s:
        stale = [
            a for a in stale_articles(s, report.extractor_id, site) if a not in report.articles
        ]
    for i in range(0, len(stale), 200):
        with archive.session() as s:
            _rebuild(s, stale[i : i + 200], report)
