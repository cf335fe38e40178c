"""What a crawl run has already asked for, in about 8 bytes per URL.

A run must remember every URL it has requested (Scrapy's dupefilter, the spider's article
links) and that memory grows with the run. As Python objects a remembered URL costs
~100-250 bytes (a str or bytes object plus its set slot); a 64-bit digest packed in a sorted
``array('Q')`` costs 8. :class:`FingerprintSet` keeps the packed array and a small set of
recent additions, merged into the array when the set reaches 1/8 of it (so merges are rare
and cost O(n) each: amortised O(1) per add). At 64 bits, the chance of any two different
URLs colliding in a run of a million is about 3 in 100 million.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Self

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.dupefilters import BaseDupeFilter
from scrapy.utils.job import job_dir
from scrapy.utils.request import RequestFingerprinter, RequestFingerprinterProtocol

MIN_BUFFER = 4096
log = logging.getLogger(__name__)


class FingerprintSet:
    """A set of unsigned 64-bit ints: a sorted packed array plus a small set of recent ones."""

    __slots__ = ("_recent", "_sorted")

    def __init__(self) -> None:
        self._sorted = array("Q")
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def __contains__(self, fp: object) -> bool:
        if fp in self._recent:
            return True
        if not isinstance(fp, int):
            return False
        i = bisect_left(self._sorted, fp)
        return i < len(self._sorted) and self._sorted[i] == fp

    def add(self, fp: int) -> bool:
        """Add fp; whether it was new."""
        if fp in self:
            return False
        self._recent.add(fp)
        if len(self._recent) >= max(MIN_BUFFER, len(self._sorted) // 8):
            # heapq.merge streams into the new array: no list of n ints on the way.
            self._sorted = array("Q", heapq.merge(self._sorted, sorted(self._recent)))
            self._recent = set()
        return True

    def nbytes(self) -> int:
        """Memory held, roughly: the packed array plus ~50 bytes per recent int."""
        return self._sorted.itemsize * len(self._sorted) + 50 * len(self._recent)


def digest64(fingerprint: bytes) -> int:
    """The first 8 bytes of a (SHA-1 or BLAKE2) fingerprint as an int."""
    return int.from_bytes(fingerprint[:8], "big")


def url_digest(url: str) -> int:
    """A URL's 64-bit digest (BLAKE2b), for a FingerprintSet of URLs."""
    return digest64(hashlib.blake2b(url.encode(), digest_size=8).digest())


class CompactDupeFilter(BaseDupeFilter):
    """A request dupefilter keeping 8-byte digests of request fingerprints in memory.

    Same fingerprints as Scrapy's RFPDupeFilter (the crawler's REQUEST_FINGERPRINTER), and
    the same JOBDIR file format (``requests.seen``: each fingerprint as a 2-byte big-endian
    length then its bytes), so a stock filter reads what this one writes and vice versa;
    only the in-memory set is packed. Built on the public dupefilter interface alone.
    Selected by crawler/settings.py (DUPEFILTER_CLASS); a shared Redis frontier uses
    scrapy-redis's filter instead.
    """

    def __init__(
        self,
        path: str | None = None,
        debug: bool = False,
        *,
        fingerprinter: RequestFingerprinterProtocol | None = None,
    ) -> None:
        self.fingerprinter = fingerprinter or RequestFingerprinter()
        self.debug = debug
        self.seen = FingerprintSet()
        self.file: BinaryIO | None = None
        self._logged = False
        if path:
            self.file = Path(path, "requests.seen").open("a+b")  # noqa: SIM115 (open for the run)
            self.file.seek(0)
            for fp in read_job_fingerprints(self.file.read()):
                self.seen.add(digest64(fp))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(
            job_dir(crawler.settings),
            crawler.settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
        )

    def request_seen(self, request: Request) -> bool:
        fp = self.fingerprinter.fingerprint(request)
        if not self.seen.add(digest64(fp)):
            return True
        if self.file:
            self.file.write(len(fp).to_bytes(2, "big") + fp)
        return False

    def log(self, request: Request, spider: Spider) -> None:
        if self.debug or not self._logged:
            log.debug("Filtered duplicate request: %s", request, extra={"spider": spider})
            self._logged = True
        if spider.crawler.stats is not None:
            spider.crawler.stats.inc_value("dupefilter/filtered")

    def close(self, reason: str) -> None:
        if self.file:
            self.file.close()


def read_job_fingerprints(data: bytes) -> Iterator[bytes]:
    """Fingerprints from a JOBDIR ``requests.seen`` file (a torn last entry is skipped)."""
    pos = 0
    while pos + 2 <= len(data):
        size = int.from_bytes(data[pos : pos + 2], "big")
        fp = data[pos + 2 : pos + 2 + size]
        if len(fp) < size:
            return
        yield fp
        pos += 2 + size


__all__ = ["CompactDupeFilter", "FingerprintSet", "digest64", "url_digest"]
