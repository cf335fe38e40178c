"""Small builders for captures and extractions used by storage tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from storage.records import Capture, DatedValue, Extracted, PageKind, PageState, RecordKind

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
_offsets = itertools.count(1000, 1000)

WORDS = [
    "council",
    "budget",
    "harbour",
    "bridge",
    "vote",
    "mayor",
    "river",
    "transport",
    "school",
    "hospital",
    "winter",
    "storm",
    "market",
    "energy",
    "prices",
    "tenants",
    "housing",
    "rail",
    "strike",
    "museum",
    "festival",
    "police",
    "court",
    "judge",
    "election",
    "minister",
    "farmers",
    "drought",
    "water",
    "supply",
    "library",
    "garden",
    "stadium",
    "airport",
    "runway",
]


SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "te",
    "vo",
    "zi",
    "bra",
    "cle",
    "dro",
    "fen",
    "gul",
    "hap",
    "jor",
    "kin",
    "lux",
    "mor",
    "pet",
]


def body(seed: int, words: int = 450) -> str:
    """A deterministic article body of `words` words in paragraphs, over a large vocabulary."""
    out: list[str] = []
    x = seed * 7919 + 17
    for i in range(words):
        x = (x * 1103515245 + 12345) % (2**31)
        if x % 3 == 0:
            out.append(WORDS[(x >> 4) % len(WORDS)])
        else:
            n = 2 + (x >> 8) % 2
            out.append("".join(SYLLABLES[(x >> (10 + 5 * k)) % len(SYLLABLES)] for k in range(n)))
        if i % 15 == 14:
            out[-1] += "."
        if i % 90 == 89:
            out[-1] += "\n\n"
    return " ".join(out).replace("\n\n ", "\n\n")


def capture(
    url: str,
    *,
    at: datetime = T0,
    site: str = "site-a",
    revisit: bool = False,
    kind: PageKind = PageKind.ARTICLE,
    final_url: str | None = None,
) -> Capture:
    """A capture pointing at a made-up WARC place (storage tests do not read WARC)."""
    return Capture(
        url=url,
        final_url=final_url,
        status=200,
        fetched_at=at,
        warc_file="test.warc.gz",
        warc_offset=next(_offsets),
        warc_length=900,
        content_type="text/html",
        payload_digest="sha1:AAAA",
        page_kind=kind,
        site=site,
        record_kind=RecordKind.REVISIT if revisit else RecordKind.RESPONSE,
    )


def extracted(
    title: str,
    text: str,
    *,
    canonical: str | None = None,
    state: PageState = PageState.ARTICLE,
    published: datetime | None = T0,
    authors: tuple[str, ...] = ("Ada Lovelace",),
) -> Extracted:
    """An extraction result as crawler.extraction would return it."""
    return Extracted(
        extractor_id="test/1",
        state=state,
        title=title,
        text=text,
        authors=authors,
        published=DatedValue(published, "json-ld") if published else None,
        canonical_url=canonical,
        language="en",
    )


def later(hours: float) -> datetime:
    """T0 plus some hours."""
    return T0 + timedelta(hours=hours)
