"""Archives for the query/export tests: real WARC records, recorded through storage.ingest."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from storage import ingest
from storage.db import Archive
from storage.records import Capture, DatedValue, Extracted, RecordKind
from storage.warc import WarcStore
from tests.factories import SYLLABLES, T0


def page(title: str, text: str) -> bytes:
    """A small HTML page holding the article (what the WARC record stores)."""
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
    head = f"<head><title>{html.escape(title)}</title></head>"
    return f"<html>{head}<body>{paras}</body></html>".encode()


def filler(seed: int, words: int = 120) -> str:
    """Made-up words (never a real word a test searches for), in paragraphs."""
    out = []
    x = seed * 7919 + 17
    for i in range(words):
        x = (x * 1103515245 + 12345) % (2**31)
        out.append("".join(SYLLABLES[(x >> (8 + 5 * k)) % len(SYLLABLES)] for k in range(3)))
        if i % 40 == 39:
            out[-1] += ".\n\n"
    return " ".join(out).replace("\n\n ", "\n\n").strip()


@dataclass
class Built:
    """An archive database plus the WARC store its captures point into."""

    url: str
    warc: WarcStore
    payloads: dict[int, bytes] = field(default_factory=dict)  # capture id -> body

    def add(
        self,
        url: str,
        title: str,
        text: str,
        *,
        at: datetime = T0,
        site: str = "ledger",
        authors: tuple[str, ...] = ("Ada Lovelace",),
        published: datetime | None = T0,
        language: str = "en",
        html_text: str | None = None,
        seo_title: str | None = None,
        page_html: bytes | None = None,
    ) -> int:
        """Write the page to WARC, record capture + extraction; return the article id.

        The page holds `html_text` when given (what a real extractor would find), while
        the recorded extraction says `text` (what an older extractor made of it);
        `page_html` replaces the whole page.
        """
        body = page_html or page(title, html_text if html_text is not None else text)
        written = self.warc.write_exchange(
            url=url,
            request_headers=[("User-Agent", "tests")],
            status=200,
            response_headers=[("Content-Type", "text/html; charset=utf-8")],
            body=body,
            fetched_at=at,
        )
        capture = Capture(
            url=url,
            status=200,
            fetched_at=at,
            warc_file=written.warc_file,
            warc_offset=written.offset,
            warc_length=written.length,
            content_type="text/html; charset=utf-8",
            payload_digest=written.payload_digest,
            record_kind=RecordKind.RESPONSE,
            site=site,
        )
        extracted = Extracted(
            extractor_id="test/1",
            title=title,
            seo_title=seo_title,
            text=text,
            authors=authors,
            published=DatedValue(published, "json-ld") if published else None,
            language=language,
            categories=("Local",),
            tags=("council",),
        )
        with Archive(self.url) as archive, archive.session() as s:
            result = ingest.record(s, capture, extracted)
        self.payloads[result.capture_id] = body
        assert result.article_id is not None
        return result.article_id


def build(db_url: str, tmp_path: Path) -> Built:
    """An empty archive with a WARC store in tmp_path/warc."""
    return Built(db_url, WarcStore(tmp_path / "warc"))
