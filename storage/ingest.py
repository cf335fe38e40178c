"""ingest: turn a capture and its extraction into a new article, a new version or seen-again.

Rules (DESIGN.md): a new version only when the normalised title+body hash changes; an
unchanged re-fetch only moves last_seen_at; nothing is ever deleted; URL variants of one
article land on one article; near-duplicates across sites share a cluster_id.

Concurrency: on SQLite the caller's transaction started with BEGIN IMMEDIATE, so one writer
at a time. On PostgreSQL, articles are created with INSERT .. ON CONFLICT DO NOTHING and
locked with SELECT .. FOR UPDATE before a version is added, so two workers recording
variants of the same article at once still make one article and one version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from storage import fingerprints, urls
from storage.db import DIALECT_INSERTS, dialect_of, insert_for, is_postgresql
from storage.models import Article, ArticleUrl, CaptureRow, Extraction, Site, Version, utcnow
from storage.records import Capture, Extracted, Outcome, PageKind, PageState, RecordKind
from storage.versioning import (
    add_version,
    article_status,
    cluster_of,
    seen_again,
    simhash_values,
    version_values,
)
from storage.warc import PreviousCapture

_CAPTURES = cast(Table, CaptureRow.__table__)
_EXTRACTIONS = cast(Table, Extraction.__table__)
_ARTICLES = cast(Table, Article.__table__)
_VERSIONS = cast(Table, Version.__table__)
_ARTICLE_URLS = cast(Table, ArticleUrl.__table__)
_INSERT_CAPTURE = _CAPTURES.insert().returning(_CAPTURES.c.id)
_INSERT_EXTRACTION = _EXTRACTIONS.insert().returning(_EXTRACTIONS.c.id)
# Statements the archive writer runs for every page, built once (bind parameters, not
# values): building and cache-keying a statement cost as much as running it on SQLite.
_LAST_RESPONSE = (
    select(
        _CAPTURES.c.id,
        exists().where(
            _EXTRACTIONS.c.capture_id == _CAPTURES.c.id, _EXTRACTIONS.c.state == "article"
        ),
        _CAPTURES.c.payload_digest,
        func.coalesce(_CAPTURES.c.final_url, _CAPTURES.c.url),
        _CAPTURES.c.fetched_at,
    )
    .where(
        _CAPTURES.c.url == bindparam("url"),
        _CAPTURES.c.record_kind == RecordKind.RESPONSE.value,
        _CAPTURES.c.status == 200,
        _CAPTURES.c.payload_digest.is_not(None),
    )
    .order_by(_CAPTURES.c.fetched_at.desc())
    .limit(1)
)
_FIND_ARTICLE = (
    select(Article)
    .where(
        or_(
            Article.canonical_url.in_(bindparam("wanted", expanding=True)),
            Article.id.in_(
                select(ArticleUrl.article_id).where(
                    ArticleUrl.url.in_(bindparam("wanted", expanding=True))
                )
            ),
        )
    )
    .order_by(Article.id)
    .limit(1)
)
_FIND_ARTICLE_LOCKED = _FIND_ARTICLE.with_for_update()
_INSERT_ARTICLE = {
    name: insert(_ARTICLES)
    .on_conflict_do_nothing(index_elements=["canonical_url"])
    .returning(_ARTICLES.c.id)
    for name, insert in DIALECT_INSERTS.items()
}
_INSERT_VARIANTS = {
    name: insert(_ARTICLE_URLS).on_conflict_do_nothing(index_elements=["url"])
    for name, insert in DIALECT_INSERTS.items()
}
_INSERT_VERSION = _VERSIONS.insert()
_STATE_STATUS = {PageState.PAYWALLED: "paywalled", PageState.BLOCKED: "blocked"}


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What record() did: the outcome and the rows it touched."""

    outcome: Outcome
    capture_id: int
    extraction_id: int | None = None
    article_id: int | None = None
    version: int | None = None
    chars_added: int = 0
    chars_removed: int = 0


def ensure_site(session: Session, key: str, name: str | None = None, config: Any = None) -> None:
    """Create the sites row for `key` if missing; refresh its name and config snapshot."""
    stmt = insert_for(session, Site).values(key=key, name=name, config=config, created_at=utcnow())
    stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"name": name, "config": config})
    session.execute(stmt)


def add_capture(session: Session, capture: Capture) -> int:
    """Insert the captures row (the WARC record is already flushed) and return its id."""
    revisit_of = capture.revisit_of
    if revisit_of is None and capture.record_kind == RecordKind.REVISIT:
        revisit_of = session.scalar(
            select(CaptureRow.id)
            .where(
                CaptureRow.url == capture.url,
                CaptureRow.record_kind == RecordKind.RESPONSE.value,
                CaptureRow.status == 200,
            )
            .order_by(CaptureRow.fetched_at.desc())
            .limit(1)
        )
    values = {
        "url": capture.url,
        "final_url": capture.final_url,
        "status": capture.status,
        "content_type": capture.content_type,
        "fetched_at": capture.fetched_at,
        "payload_digest": capture.payload_digest,
        "warc_file": capture.warc_file,
        "warc_offset": capture.warc_offset,
        "warc_length": capture.warc_length,
        "record_kind": capture.record_kind.value,
        "revisit_of": revisit_of,
        "crawl_run_id": capture.crawl_run_id,
        "page_kind": capture.page_kind.value,
        "site": capture.site,
    }
    # A Core insert, not an ORM unit of work: this runs on the archive writer thread, the
    # crawl's serial stage, for every page (bench/README.md, "Crawl profile").
    return int(session.execute(_INSERT_CAPTURE, values).scalar_one())


def capture_from_row(row: CaptureRow) -> Capture:
    """The Capture record of a captures row (for re-extraction and recovery)."""
    return Capture(
        url=row.url,
        final_url=row.final_url,
        status=row.status,
        fetched_at=row.fetched_at,
        warc_file=row.warc_file,
        warc_offset=row.warc_offset,
        warc_length=row.warc_length,
        content_type=row.content_type,
        payload_digest=row.payload_digest,
        record_kind=RecordKind(row.record_kind),
        page_kind=PageKind(row.page_kind),
        site=row.site,
        crawl_run_id=row.crawl_run_id,
    )


def last_response(session: Session, url: str) -> tuple[int, bool, PreviousCapture] | None:
    """The last 200 response to a request for `url` (the URL asked for, as captures.url
    stores it), for deciding whether this payload is unchanged: its row id, whether it
    became an article, and what a revisit record refers to."""
    row = session.execute(_LAST_RESPONSE, {"url": url}).first()
    if row is None:
        return None
    return row[0], row[1], PreviousCapture(str(row[2]), url=row[3], fetched_at=row[4])


def load_capture(session: Session, capture_id: int) -> Capture | None:
    """The capture of a captures row, or None if there is no such row."""
    row = session.get(CaptureRow, capture_id)
    return capture_from_row(row) if row is not None else None


def extraction_values(capture_id: int, extracted: Extracted) -> dict[str, Any]:
    """The extractions row of a capture's extraction, column by column."""
    text = extracted.text if extracted.text else None
    sim = None
    if text and extracted.has_body:
        sim = extracted.simhash if extracted.simhash is not None else fingerprints.simhash(text)
    text_hash = None
    if text:
        text_hash = extracted.text_hash or fingerprints.content_hash(extracted.title, text)
    pub, mod = extracted.published, extracted.modified
    return {
        "capture_id": capture_id,
        "extractor_id": extracted.extractor_id,
        "state": extracted.state.value,
        "title": extracted.title,
        "seo_title": extracted.seo_title,
        "authors": list(extracted.authors),
        "published_at": pub.value if pub else None,
        "published_source": pub.source if pub else None,
        "published_tz": pub.tz_offset_minutes if pub else None,
        "modified_at": mod.value if mod else None,
        "modified_source": mod.source if mod else None,
        "modified_tz": mod.tz_offset_minutes if mod else None,
        "language": extracted.language,
        "categories": list(extracted.categories),
        "tags": list(extracted.tags),
        "description": extracted.description,
        "image": extracted.image,
        "sitename": extracted.sitename,
        "canonical_url": extracted.canonical_url,
        "text": text,
        "text_hash": text_hash,
        "simhash": fingerprints.to_signed64(sim) if sim is not None else None,
        "error": extracted.error,
        "created_at": utcnow(),
    }


def _insert_extraction(session: Session, values: dict[str, Any]) -> Extraction:
    """Insert the extractions row for a capture (one per capture and extractor_id), as one
    Core insert; the Extraction returned is detached (read only)."""
    extraction_id = session.execute(_INSERT_EXTRACTION, values).scalar_one()
    return Extraction(id=int(extraction_id), **values)


def find_article(
    session: Session, *candidate_urls: str | None, lock: bool = False
) -> Article | None:
    """The article known under any of these URLs (canonical or a recorded variant)."""
    wanted = sorted(
        {u for u in candidate_urls if u} | {urls.canonicalize(u) for u in candidate_urls if u}
    )
    if not wanted:
        return None
    stmt = _FIND_ARTICLE_LOCKED if lock and is_postgresql(session) else _FIND_ARTICLE
    return session.scalars(stmt, {"wanted": wanted}).first()


def record(
    session: Session,
    capture: Capture,
    extracted: Extracted | None,
    *,
    site: str | None = None,
    capture_id: int | None = None,
) -> RecordResult:
    """Record one capture (and its extraction, if the page was extracted).

    - no extraction: the capture is stored; a revisit of a known article moves its
      last_seen_at (payload unchanged means text unchanged);
    - an extraction without a body (blocked, not an article, error, a paywall with no
      visible lead): stored
      with its state; an existing article's status is updated, no version is made;
    - an article body: new article, new version, or seen-again.

    `capture_id` names a captures row already inserted (the crawler inserts it when the
    WARC record is written, before extraction finishes).
    """
    site = site or capture.site or urls.host_of(capture.url)
    if capture_id is None:
        capture_id = add_capture(session, capture)
    fetched = [capture.url, capture.final_url]
    if extracted is None:
        if capture.record_kind == RecordKind.REVISIT:
            article = find_article(session, *fetched, lock=True)
            if article is not None:
                seen_again(session, article, capture.fetched_at)
                return RecordResult(
                    Outcome.UNCHANGED,
                    capture_id,
                    article_id=article.id,
                    version=article.current_version,
                )
        return RecordResult(Outcome.SKIPPED, capture_id)

    values = extraction_values(capture_id, extracted)
    extraction = _insert_extraction(session, values)
    if not extracted.has_body:
        status = "gone" if capture.status in (404, 410) else _STATE_STATUS.get(extracted.state)
        if status:
            article = find_article(session, *fetched)
            if article is not None:
                # The article stays, with every version; only its status says what we saw.
                article.status = status
                if status != "gone":
                    article.last_seen_at = max(article.last_seen_at, capture.fetched_at)
                return RecordResult(Outcome.SKIPPED, capture_id, extraction.id, article.id)
        return RecordResult(Outcome.SKIPPED, capture_id, extraction.id)

    canonical = urls.choose_canonical(capture.final_url or capture.url, extracted.canonical_url)
    article = find_article(session, canonical, *fetched, lock=True)
    if article is None:
        article_id = _new_article(session, site, canonical, capture.fetched_at, extraction)
        if article_id is not None:
            _add_variants(session, article_id, canonical, *fetched)
            return RecordResult(Outcome.NEW, capture_id, extraction.id, article_id, 1)
        # lost a race on PostgreSQL: the other worker's row is now visible
        article = find_article(session, canonical, lock=True)
        assert article is not None
    _add_variants(session, article.id, canonical, *fetched)
    result = add_version(session, article, extraction, capture.fetched_at)
    return RecordResult(
        result[0], capture_id, extraction.id, article.id, article.current_version, *result[1:]
    )


def _new_article(
    session: Session, site: str, canonical: str, seen_at: datetime, extraction: Extraction
) -> int | None:
    """A new article with its first version, as Core inserts: the article row is inserted
    with its title and text, so the FTS5 insert trigger indexes it once (an insert, then an
    update of title and text, indexed it twice). What add_version() would make of an
    article with no version. None when another worker created the article first."""
    hashes = simhash_values(extraction.simhash)
    values = {
        "site": site,
        "canonical_url": canonical,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "last_changed_at": seen_at,
        "current_version": 1,
        "status": article_status(extraction),
        "title": extraction.title,
        "seo_title": extraction.seo_title,
        "text": extraction.text,
        "authors": extraction.authors,
        "published_at": extraction.published_at,
        "modified_at": extraction.modified_at,
        "language": extraction.language,
        **hashes,
    }
    article_id = session.execute(_INSERT_ARTICLE[dialect_of(session)], values).scalar()
    if article_id is None:
        return None
    session.execute(_INSERT_VERSION, version_values(article_id, 1, extraction, seen_at))
    bands = [hashes[f"simhash_band{i}"] for i in range(4)]
    cluster_of(session, article_id, extraction.simhash, bands, seen_at, None)
    return int(article_id)


def _add_variants(session: Session, article_id: int, *variants: str | None) -> None:
    rows = [
        {"article_id": article_id, "url": u, "first_seen_at": utcnow()}
        for u in sorted({v for v in variants if v})
    ]
    if rows:
        session.execute(_INSERT_VARIANTS[dialect_of(session)], rows)
