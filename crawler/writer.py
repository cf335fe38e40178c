"""The archive writer: one thread that owns the WARC store and the database session.

The crawl's event loop never writes a file or the database itself: it hands jobs to this
thread and awaits their futures. Jobs are taken in batches and committed in one
transaction; when a job fails, the batch is run again with each job in its own SAVEPOINT,
so one bad job does not undo the others.
The WARC record of a capture is flushed before the transaction that points at it commits.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from storage import ingest, url_state
from storage.db import Archive
from storage.records import Capture, Extracted, Outcome, PageKind, RecordKind
from storage.warc import PreviousCapture, WarcStore

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP exchange as the crawler saw it, ready to be archived."""

    url: str  # the URL first requested (before redirects)
    final_url: str
    status: int
    request_headers: list[tuple[str, str]]
    response_headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    page_kind: PageKind
    site: str | None
    crawl_run_id: int | None
    method: str = "GET"
    protocol: str = "HTTP/1.1"

    def warc_fields(self) -> dict[str, Any]:
        """The keyword arguments WarcStore takes to write this exchange."""
        return {
            "url": self.final_url,
            "method": self.method,
            "request_headers": self.request_headers,
            "status": self.status,
            "response_headers": self.response_headers,
            "body": self.body,
            "fetched_at": self.fetched_at,
            "protocol": self.protocol,
        }


@dataclass(frozen=True, slots=True)
class CaptureRef:
    """A capture that is in WARC and in the captures table."""

    id: int
    capture: Capture
    # The payload repeats a capture that became an article: extracting it again would give
    # the same result, so the pipeline records a sighting instead.
    repeats_article: bool = False

    @property
    def is_revisit(self) -> bool:
        """True when the payload was unchanged (304 or identical digest)."""
        return self.capture.record_kind == RecordKind.REVISIT


class CaptureFuture(Future[CaptureRef]):
    """A capture's future: resolves once its captures row commits. ``written`` resolves
    earlier, as soon as the WARC record is on disk and the row inserted (uncommitted), so
    extraction can start while the batch commits; the same exception if that fails."""

    def __init__(self) -> None:
        super().__init__()
        self.written: Future[CaptureRef] = Future()
        self.add_done_callback(self._settle_written)

    def _settle_written(self, done: Future[CaptureRef]) -> None:
        if self.written.done():
            return
        if (exc := done.exception()) is not None:
            self.written.set_exception(exc)
        else:
            self.written.set_result(done.result())

    def note_written(self, ref: CaptureRef) -> CaptureRef:
        """Called on the writer thread when the capture job has run (first run only)."""
        if not self.written.done():
            self.written.set_result(ref)
        return ref


@dataclass
class _WriteTask:
    fn: Callable[[Session], Any]
    future: Future[Any] = field(default_factory=Future)


def _retryable(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "deadlock" in text or "could not serialize" in text or "database is locked" in text


class ArchiveWriter:
    """Serialises WARC appends and database writes on one background thread."""

    MAX_ATTEMPTS = 4

    def __init__(
        self,
        archive: Archive,
        warc: WarcStore,
        *,
        batch_size: int = 64,
        batch_wait: float = 0.05,
        revisit_ladder: Mapping[str, Sequence[timedelta]] | None = None,
    ) -> None:
        self.archive = archive
        self.warc = warc
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.revisit_ladder = revisit_ladder or {}
        self._queue: queue.Queue[_WriteTask | None] = queue.Queue()
        # WARC members are deflated here, beside this writer's database work, not on it:
        # the writer thread is the crawl's serial stage (bench/README.md, "Crawl profile").
        self._deflate = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc-deflate")
        self._thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
        self._closed = False
        self._thread.start()

    # -- API used from the crawl's event loop ----------------------------------------------

    def submit(self, fn: Callable[[Session], T]) -> Future[T]:
        """Run fn(session) on the writer thread inside the next batch's transaction."""
        if self._closed:
            raise RuntimeError("archive writer is closed")
        job = _WriteTask(fn)
        self._queue.put(job)
        return job.future

    def capture(self, ex: Exchange) -> CaptureFuture:
        """Write the exchange to WARC (revisit if unchanged) and insert its captures row."""
        memo: dict[str, Any] = {}  # the WARC write survives a retried database transaction
        if self._closed:
            raise RuntimeError("archive writer is closed")
        if ex.status != 304:  # most often a response record: deflate it ahead of the job
            memo["prepared"] = self._deflate.submit(self.warc.prepare_exchange, **ex.warc_fields())
        future = CaptureFuture()
        self._queue.put(
            _WriteTask(lambda s: future.note_written(self._capture(s, ex, memo)), future)
        )
        return future

    def record(self, ref: CaptureRef, extracted: Extracted | None) -> Future[ingest.RecordResult]:
        """Record the extraction of a capture (or a seen-again for an unchanged page)."""
        return self.submit(lambda s: self._record(s, ref, extracted))

    def note_error(self, url: str, site: str | None, page_kind: str, when: datetime) -> None:
        """Count a failed fetch against the URL (back-off), fire and forget."""
        self.submit(
            lambda s: url_state.note_fetch(
                s, url, site=site, page_kind=page_kind, status=None, fetched_at=when, error=True
            )
        )

    def close(self, timeout: float | None = None) -> None:
        """Finish every queued job, then stop the thread and close the WARC file."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)
        self._deflate.shutdown(wait=True, cancel_futures=True)
        self.warc.close()

    # -- writer thread ----------------------------------------------------------------------

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            # Collect for at most batch_wait after the first job: the crawl awaits these
            # futures, so a batch that kept growing while jobs trickled in would hold every
            # page back until it filled.
            deadline = time.monotonic() + self.batch_wait
            while len(batch) < self.batch_size:
                try:
                    nxt = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._run_batch(batch)

    def _run_batch(self, batch: list[_WriteTask]) -> None:
        if len(batch) > 1 and self._run_batch_at_once(batch):
            return
        results: list[tuple[_WriteTask, Any, BaseException | None]] = []
        try:
            with self.archive.session() as session:
                for job in batch:
                    results.append((job, *self._run_job(session, job)))
        except Exception as exc:  # the commit itself failed: every job in it failed
            log.exception("archive batch commit failed")
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        for job, value, error in results:
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(value)

    def _run_batch_at_once(self, batch: list[_WriteTask]) -> bool:
        """Run the batch's jobs in one transaction without a SAVEPOINT each (a flush check
        and two statements per job, on the crawl's serial thread). False, with
        everything rolled back, when a job or the commit failed: the caller then runs the
        batch again job by job, so one bad job still does not undo the others. Jobs may run
        twice this way, which they already must allow (a deadlock victim is retried): the
        WARC append is done once (the capture job's memo)."""
        try:
            with self.archive.session() as session:
                values = [job.fn(session) for job in batch]
        except Exception:
            log.info("archive batch of %d jobs failed at once: retried job by job", len(batch))
            return False
        for job, value in zip(batch, values, strict=True):
            job.future.set_result(value)
        return True

    def _run_job(self, session: Session, job: _WriteTask) -> tuple[Any, BaseException | None]:
        """Run one job in a SAVEPOINT; retry it when PostgreSQL picks it as a deadlock
        victim or the row it waited for changed under it (two workers, one article)."""
        for attempt in range(1, self.MAX_ATTEMPTS + 1):
            try:
                with session.begin_nested():
                    return job.fn(session), None
            except OperationalError as exc:
                if attempt == self.MAX_ATTEMPTS or not _retryable(exc):
                    log.exception("archive job failed")
                    return None, exc
                log.info("archive job retried after %s", type(exc.orig).__name__)
                time.sleep(0.05 * attempt)
            except Exception as exc:
                log.exception("archive job failed")
                return None, exc
        raise AssertionError("unreachable")

    def _capture(self, session: Session, ex: Exchange, memo: dict[str, Any]) -> CaptureRef:
        written = memo.get("written")
        if written is None:
            # Only a 200 (or a 304 standing for one) can repeat an earlier 200: a second
            # identical 404 page is not the article "seen again".
            if ex.status in (200, 304):
                found = _previous(session, ex, memo)
            else:
                found = memo["previous_id"] = None
                memo["previous_article"] = False
            previous = found[2] if found else None
            prepared = memo["prepared"].result() if "prepared" in memo else None
            if prepared is None or (previous and previous.payload_digest == prepared.digest):
                # A 304, or the same payload again: a revisit record, built against the
                # previous capture (with the digest the deflate thread already computed).
                prepared = self.warc.prepare_exchange(
                    **ex.warc_fields(),
                    previous=previous,
                    digest=prepared.digest if prepared is not None else None,
                )
            written = memo["written"] = self.warc.append_prepared(prepared)
        elif written.record_kind == RecordKind.REVISIT:
            # Run again after its transaction rolled back: the capture it repeats may have
            # been in that transaction, and its row (on PostgreSQL, its id) is new now.
            _previous(session, ex, memo)
        headers = {k.lower(): v for k, v in ex.response_headers}
        capture = Capture(
            url=ex.url,
            final_url=ex.final_url if ex.final_url != ex.url else None,
            status=ex.status,
            fetched_at=ex.fetched_at,
            warc_file=written.warc_file,
            warc_offset=written.offset,
            warc_length=written.length,
            content_type=headers.get("content-type"),
            payload_digest=written.payload_digest,
            record_kind=written.record_kind,
            page_kind=ex.page_kind,
            site=ex.site,
            crawl_run_id=ex.crawl_run_id,
            revisit_of=memo["previous_id"] if written.record_kind == RecordKind.REVISIT else None,
        )
        capture_id = ingest.add_capture(session, capture)
        url_state.note_fetch(
            session,
            ex.url,
            site=ex.site,
            page_kind=ex.page_kind.value,
            status=ex.status,
            fetched_at=ex.fetched_at,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            payload_digest=written.payload_digest if ex.status != 304 else None,
            error=ex.status >= 500 or ex.status in (403, 429),
        )
        repeats = written.record_kind == RecordKind.REVISIT and memo["previous_article"]
        return CaptureRef(capture_id, capture, repeats_article=repeats)

    def _record(
        self, session: Session, ref: CaptureRef, extracted: Extracted | None
    ) -> ingest.RecordResult:
        result = ingest.record(session, ref.capture, extracted, capture_id=ref.id)
        ladder = self.revisit_ladder.get(ref.capture.site or "")
        if ref.capture.status in (404, 410):
            url_state.end_revisits(session, ref.capture.url)
        elif ladder and result.article_id is not None and result.outcome != Outcome.SKIPPED:
            url_state.schedule_revisit(
                session,
                ref.capture.url,
                article_id=result.article_id,
                ladder=ladder,
                checked_at=ref.capture.fetched_at,
                first=result.outcome == Outcome.NEW,
            )
        return result


def load_capture(session: Session, capture_id: int) -> CaptureRef:
    """A CaptureRef for a captures row already in the archive (for re-extraction)."""
    capture = ingest.load_capture(session, capture_id)
    if capture is None:
        raise LookupError(f"no capture {capture_id}")
    return CaptureRef(capture_id, capture)


def _previous(
    session: Session, ex: Exchange, memo: dict[str, Any]
) -> tuple[int, bool, PreviousCapture] | None:
    """The last 200 response for the exchange's URL, noted in the capture job's memo: its
    row id (what a revisit record's row points at) and whether it became an article."""
    found = ingest.last_response(session, ex.url)
    memo["previous_id"] = found[0] if found else None
    memo["previous_article"] = bool(found and found[1])
    return found
