"""The archive pipeline: captured article page -> extraction (process pool) -> ingest.record.

Thin on purpose: extraction runs in other processes, the database write on the archive
writer thread; this coroutine only awaits their futures, so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import ArticlePage, StoredPage
from crawler.pool import extract_with_fingerprints
from crawler.services import CrawlServices, services_of
from crawler.writer import load_capture
from storage.records import Capture, Extracted, Outcome, PageState

log = logging.getLogger(__name__)

_COUNTER = {
    Outcome.NEW: "articles_new",
    Outcome.CHANGED: "articles_changed",
    Outcome.UNCHANGED: "articles_unchanged",
    Outcome.SKIPPED: "articles_skipped",
}


_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")


def _is_html(content_type: str | None) -> bool:
    """Pages without a content type are sniffed by the extractor; others must look like HTML."""
    if not content_type:
        return True
    return content_type.split(";")[0].strip().lower() in _HTML_TYPES


class ArchivePipeline:
    """Extract each captured article page off the event loop and record the result."""

    def __init__(self, services: CrawlServices) -> None:
        self.services = services

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        services = services_of(crawler)
        if services is None:
            raise NotConfigured("the spider has no crawl services (newsarchive crawl)")
        return cls(services)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, StoredPage):
            return await self._recover(item)
        if not isinstance(item, ArticlePage):
            return item
        try:
            return await self._process(item)
        finally:
            frontier = self.services.frontiers.get(f"news:{item.site}")
            if frontier is not None:
                frontier.done(item.request)

    async def _process(self, item: ArticlePage) -> Any:
        stats = self.services.site_stats(item.site)
        try:
            # Extraction starts once the WARC record is written, while the batch holding
            # the captures row commits; the record waits for that commit (below).
            ref = await asyncio.wrap_future(item.capture.written)
        except Exception:
            return None  # counted (archive_write) and logged where the capture was made
        extracted: Extracted | None = None
        capture = ref.capture
        if not _is_html(capture.content_type):
            stats.error("not_html")  # recorded in WARC and captures, never extracted
        elif not ref.repeats_article and (item.body or not ref.is_revisit):
            # New bytes, or the same bytes as a capture that never became an article (the
            # crawl was killed between capture and extraction): extract them.
            extracted = await self._extract(capture, item.body, item.feed_date)
        try:
            ref = await asyncio.wrap_future(item.capture)  # the committed row
        except Exception as exc:
            stats.error("archive_write")
            log.error("capture of %s failed: %s", item.url, exc)
            return None
        try:
            result = await asyncio.wrap_future(self.services.writer.record(ref, extracted))
        except Exception as exc:
            stats.error("archive_write")
            log.error("recording %s failed: %s", item.url, exc)
            return None
        finally:
            item.body = b""  # the bytes are in WARC now; do not keep them alive
        stats.add(_COUNTER[result.outcome])
        if extracted is not None and extracted.error and result.outcome == Outcome.SKIPPED:
            stats.error(f"page_{extracted.state.value}")
        return None

    async def _recover(self, item: StoredPage) -> None:
        """Extract a page from its WARC record (captured, never extracted) and record it."""
        stats = self.services.site_stats(item.site)
        try:
            ref = await asyncio.wrap_future(
                self.services.writer.submit(lambda s: load_capture(s, item.capture_id))
            )
            if not _is_html(ref.capture.content_type):
                result = await asyncio.wrap_future(self.services.writer.record(ref, None))
                stats.add(_COUNTER[result.outcome])
                return None
            stored = await asyncio.to_thread(
                self.services.warc.read, ref.capture.warc_file, ref.capture.warc_offset
            )
            extracted = await self._extract(ref.capture, stored.payload)
            result = await asyncio.wrap_future(self.services.writer.record(ref, extracted))
        except Exception as exc:
            stats.error("recovery")
            log.error("re-extracting stored capture %s failed: %s", item.capture_id, exc)
            return None
        stats.add(_COUNTER[result.outcome])
        return None

    async def _extract(
        self, capture: Capture, body: bytes, feed_date: datetime | None = None
    ) -> Extracted:
        """Extract in the pool, bounded in time; a page that hangs or kills its worker gets
        an error extraction (so it is recorded once, not retried on every run)."""
        hints = None
        if feed_date:
            from crawler.extraction import ExtractionHints  # trafilatura: see crawler.pool

            hints = ExtractionHints(published=feed_date)
        url = capture.final_url or capture.url
        timeout = self.services.config.archive.extraction_timeout
        for attempt in (1, 2, 3):
            pool = self.services.pool
            try:
                future = pool.submit(
                    extract_with_fingerprints,
                    body,
                    url,
                    capture.fetched_at,
                    status=capture.status,
                    content_type=capture.content_type,
                    hints=hints,
                )
            except RuntimeError:  # that pool was just shut down and replaced: use the new one
                continue
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
            except TimeoutError:
                log.warning("extraction of %s took over %.0fs: abandoned", url, timeout)
                self.services.restart_pool(pool, kill=True)
                return _failed(f"extraction timed out after {timeout:g}s")
            except BrokenProcessPool:
                # A worker died (out of memory, killed): replace the pool and retry.
                log.warning("extraction pool broke on %s (attempt %d)", url, attempt)
                self.services.restart_pool(pool)
            except asyncio.CancelledError:
                if not future.cancelled():
                    raise  # this task itself is being cancelled
                # The pool was replaced while this page waited in it: try the new one.
        return _failed("extraction failed: its worker pool crashed or was replaced 3 times")


def _failed(error: str) -> Extracted:
    from crawler.extraction import EXTRACTOR_ID  # trafilatura: see crawler.pool

    return Extracted(extractor_id=EXTRACTOR_ID, state=PageState.ERROR, error=error)
