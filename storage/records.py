"""Plain data passed into the archive: what was fetched (Capture) and what was extracted.

These types are the contract between crawler/ (which produces them) and storage/
(which records them). They are frozen dataclasses so they pickle cheaply across the
extraction process pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class PageKind(StrEnum):
    """What a fetched page is to the crawl."""

    CATEGORY = "category"
    ARTICLE = "article"
    FEED = "feed"
    SITEMAP = "sitemap"
    OTHER = "other"


class RecordKind(StrEnum):
    """The WARC record type that holds a capture's payload."""

    RESPONSE = "response"
    REVISIT = "revisit"


class PageState(StrEnum):
    """What the extractor concluded a page is."""

    ARTICLE = "article"
    PAYWALLED = "paywalled"
    BLOCKED = "blocked"
    NOT_ARTICLE = "not_article"
    ERROR = "error"


class Outcome(StrEnum):
    """What `ingest.record` did with a capture."""

    NEW = "new"  # a new article (and its version 1)
    CHANGED = "changed"  # a new version of a known article
    UNCHANGED = "unchanged"  # seen again, only timestamps moved
    SKIPPED = "skipped"  # no article text (not_article, blocked, paywalled, error)


@dataclass(frozen=True, slots=True)
class Capture:
    """One HTTP exchange kept in WARC, and where its record lies."""

    url: str
    status: int
    fetched_at: datetime
    warc_file: str
    warc_offset: int
    warc_length: int
    final_url: str | None = None
    content_type: str | None = None
    payload_digest: str | None = None
    record_kind: RecordKind = RecordKind.RESPONSE
    page_kind: PageKind = PageKind.ARTICLE
    site: str | None = None
    crawl_run_id: int | None = None
    # The captures row whose payload this revisit repeats, when the producer knows it.
    revisit_of: int | None = None


@dataclass(frozen=True, slots=True)
class DatedValue:
    """A date with where it came from (json-ld | meta | html | url | text | feed)."""

    value: datetime
    source: str
    # The page's own UTC offset in minutes, when the page gave one.
    tz_offset_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Extracted:
    """The result of running the extractor over one stored page. Pure data."""

    extractor_id: str
    state: PageState = PageState.ARTICLE
    title: str | None = None
    text: str | None = None
    # `title` is the on-page headline; `seo_title` the metadata title (og:title, JSON-LD
    # headline or <title>, without the site name) kept beside it.
    seo_title: str | None = None
    authors: tuple[str, ...] = ()
    published: DatedValue | None = None
    modified: DatedValue | None = None
    language: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str | None = None
    image: str | None = None
    sitename: str | None = None
    # rel=canonical or og:url as the page declares it (absolute); archive decides if usable.
    canonical_url: str | None = None
    error: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Fingerprints (storage.fingerprints) when the producer computed them already, e.g. in
    # the extraction worker process; ingest.record computes them otherwise.
    text_hash: str | None = None
    simhash: int | None = None

    @property
    def has_body(self) -> bool:
        """True when the page is an article with text worth versioning.

        A paywalled article counts: its visible lead is archived, searchable and versioned.
        """
        return self.state in (PageState.ARTICLE, PageState.PAYWALLED) and bool(
            self.text and self.text.strip()
        )
