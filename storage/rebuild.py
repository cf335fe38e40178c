"""Rebuild an article's versions from its captures' extractions (used by re-extraction).

Versions are derived data: the captures and every extraction of them stay, so versions can
be made again whenever a better extraction exists. The rebuild replays the article's
captures in fetch order through the very rules the crawl applies (`versioning.add_version`,
`versioning.seen_again`): consecutive equal content hashes collapse into one version, a
changed hash opens the next one, numbers run 1..n again, and the `articles` mirror
fields (and so the full-text index) follow the new current version.

For each capture the extraction used is the one by the wanted extractor if there is one,
else the newest: a partial re-extraction (--since, or an interrupted run) still yields
versions from the best extraction known for every capture.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Table, delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from storage.db import is_postgresql
from storage.ingest import extraction_values

# Same package, same rules: the rebuild must not grow a second copy of the versioning logic.
from storage.models import Article, ArticleUrl, CaptureRow, Extraction, Version
from storage.records import Extracted, PageKind, RecordKind
from storage.versioning import add_version, seen_again, set_simhash

_EXTRACTIONS = cast(Table, Extraction.__table__)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """Version counts of one article before and after a rebuild."""

    article_id: int
    old_versions: int
    new_versions: int
    kept: bool = False  # no capture has a body any more: the old versions were kept


class ArticleCapture(NamedTuple):
    """What a rebuild reads of a capture: which record it is and when it was fetched."""

    id: int
    record_kind: str
    fetched_at: datetime


def article_captures(
    session: Session, articles: Sequence[Article]
) -> dict[int, list[ArticleCapture]]:
    """Per article: the article page captures fetched under any URL of it, oldest first.

    One query for all the articles (not one each): a capture belongs to an article when its
    URL or final URL is one of the article's URLs, or its URL is the article's canonical URL.
    """
    ids = [a.id for a in articles]
    by_url: dict[str, list[int]] = {}
    for article_id, url in session.execute(
        select(ArticleUrl.article_id, ArticleUrl.url).where(ArticleUrl.article_id.in_(ids))
    ):
        by_url.setdefault(url, []).append(article_id)
    by_canonical: dict[str, list[int]] = {}
    for a in articles:
        by_canonical.setdefault(a.canonical_url, []).append(a.id)
    known = select(ArticleUrl.url).where(ArticleUrl.article_id.in_(ids))
    canonical = select(Article.canonical_url).where(Article.id.in_(ids))
    rows = session.execute(
        select(
            CaptureRow.id,
            CaptureRow.url,
            CaptureRow.final_url,
            CaptureRow.record_kind,
            CaptureRow.fetched_at,
        )
        .where(
            or_(
                CaptureRow.url.in_(known),
                CaptureRow.final_url.in_(known),
                CaptureRow.url.in_(canonical),
            ),
            CaptureRow.page_kind == PageKind.ARTICLE.value,
        )
        .order_by(CaptureRow.fetched_at, CaptureRow.id)
    )
    out: dict[int, list[ArticleCapture]] = {a: [] for a in ids}
    for cid, url, final_url, kind, fetched_at in rows:
        owners = {
            *by_url.get(url, ()),
            *(by_url.get(final_url, ()) if final_url else ()),
            *by_canonical.get(url, ()),
        }
        for article_id in owners:
            out[article_id].append(ArticleCapture(cid, kind, fetched_at))
    return out


def best_extractions(
    session: Session, capture_ids: Iterable[int], extractor_id: str
) -> dict[int, Extraction]:
    """Per capture: its extraction by `extractor_id` if any, else its newest one."""
    best: dict[int, Extraction] = {}
    wanted = list(capture_ids)
    if not wanted:
        return best
    rows = session.scalars(
        select(Extraction).where(Extraction.capture_id.in_(wanted)).order_by(Extraction.id)
    )
    for e in rows:
        have = best.get(e.capture_id)
        if have is None or have.extractor_id != extractor_id:
            best[e.capture_id] = e
    return best


def rebuild_articles(
    session: Session, article_ids: Sequence[int], extractor_id: str
) -> list[Rebuilt]:
    """Rebuild these articles' versions, each from the best extraction per capture.

    The articles are locked as record() locks one (PostgreSQL), in id order: a crawl adding
    a version at the same moment waits, instead of racing the renumbering. Their captures
    and extractions are read in one query each, then every article is replayed in turn.
    """
    stmt = select(Article).where(Article.id.in_(article_ids)).order_by(Article.id)
    if is_postgresql(session):
        stmt = stmt.with_for_update()
    articles = list(session.scalars(stmt))
    if not articles:
        return []
    captures = article_captures(session, articles)
    best = best_extractions(
        session,
        {
            c.id
            for a in articles
            for c in captures[a.id]
            if c.record_kind == RecordKind.RESPONSE.value
        },
        extractor_id,
    )

    def has_body(c: ArticleCapture) -> bool:
        e = best.get(c.id)  # None for a revisit: only responses were looked up
        return (
            e is not None
            and e.state in ("article", "paywalled")
            and bool(e.text and e.text.strip())
        )

    out = []
    for article in articles:
        old = article.current_version
        if not any(has_body(c) for c in captures[article.id]):
            out.append(Rebuilt(article.id, old, old, kept=True))
            continue
        # Deleted just before the article's replay, not for the whole batch at once: SQLite
        # numbers a new row max(id) + 1, so the versions get the ids they always got.
        # "evaluate" removes the session's copies of the deleted rows (no RETURNING pass):
        # it reads the article id from the statement, so the statement names it, not a
        # bind parameter given at execution (that would match no copy, and a new version
        # SQLite numbers like a deleted one would clash with its stale copy).
        session.execute(
            delete(Version)
            .where(Version.article_id == article.id)
            .execution_options(synchronize_session="evaluate")
        )
        article.current_version = 0
        article.title = article.text = article.seo_title = None
        article.authors = None
        article.published_at = article.modified_at = None
        article.language = None
        set_simhash(article, None)
        for c in captures[article.id]:
            if c.record_kind == RecordKind.REVISIT.value:
                if article.current_version:
                    seen_again(session, article, c.fetched_at)
            elif has_body(c):
                add_version(session, article, best[c.id], c.fetched_at)
        session.flush()
        out.append(Rebuilt(article.id, old, article.current_version))
    return out


def stale_articles(session: Session, extractor_id: str, site: str | None = None) -> list[int]:
    """Articles with a version made from another extraction while `extractor_id` has one.

    That is the state an interrupted or switched-back re-extraction leaves; rebuilding
    these articles completes it.
    """
    current = Extraction.__table__.alias("current")
    used = Extraction.__table__.alias("used")
    stmt = (
        select(Version.article_id)
        .join(used, used.c.id == Version.extraction_id)
        .join(current, current.c.capture_id == used.c.capture_id)
        .where(current.c.extractor_id == extractor_id, used.c.extractor_id != extractor_id)
        .distinct()
    )
    if site:
        stmt = stmt.join(Article, Article.id == Version.article_id).where(Article.site == site)
    return sorted(session.scalars(stmt))


# -- re-extraction's reads: what is pending, and what a worker needs -------------------------


def _article_key() -> Any:
    by_url, by_final = aliased(ArticleUrl), aliased(ArticleUrl)
    key = func.coalesce(by_url.article_id, by_final.article_id, 0)
    return key, by_url, by_final


def pending_captures(
    session: Session,
    extractor_id: str,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[array[int], array[int], int]:
    """Article page captures with no extraction by `extractor_id` (by fetch time, site), as
    (article key, capture id) arrays sorted by article (key 0: no article yet), and the
    number already up to date."""
    where: list[ColumnElement[bool]] = [
        CaptureRow.page_kind == PageKind.ARTICLE.value,
        CaptureRow.record_kind == RecordKind.RESPONSE.value,
    ]
    if site:
        where.append(CaptureRow.site == site)
    if since:
        where.append(CaptureRow.fetched_at >= since)
    if until:
        where.append(CaptureRow.fetched_at < until)
    key, by_url, by_final = _article_key()
    done = exists().where(
        Extraction.capture_id == CaptureRow.id, Extraction.extractor_id == extractor_id
    )
    stmt = (
        select(key, CaptureRow.id)
        .outerjoin(by_url, by_url.url == CaptureRow.url)
        .outerjoin(by_final, by_final.url == CaptureRow.final_url)
        .where(*where, ~done)
        .order_by(key, CaptureRow.id)
    )
    keys, ids = array("q"), array("q")  # 16 bytes a capture, even for millions
    for k, cid in session.execute(stmt.execution_options(yield_per=10_000)):
        keys.append(k)
        ids.append(cid)
    up_to_date = session.scalar(select(func.count()).select_from(CaptureRow).where(*where, done))
    return keys, ids, int(up_to_date or 0)


def captures_with_feed_dates(
    session: Session, capture_ids: list[int]
) -> list[tuple[CaptureRow, datetime | None]]:
    """The capture rows, each with the date a feed gave it (a hint the extraction keeps)."""
    feed = (
        select(Extraction.published_at)
        .where(Extraction.capture_id == CaptureRow.id, Extraction.published_source == "feed")
        .order_by(Extraction.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(CaptureRow, feed).where(CaptureRow.id.in_(capture_ids)).order_by(CaptureRow.id)
    )
    return [(c, f) for c, f in rows]


class PreviousExtraction(NamedTuple):
    """The fields of a capture's earlier extraction that a re-extraction report compares."""

    title: str | None
    published_at: datetime | None
    authors: list[str] | None
    text: str | None


def previous_extractions(
    session: Session, capture_ids: list[int], extractor_id: str
) -> dict[int, PreviousExtraction]:
    """The newest other extraction of each capture: what a new one is compared with."""
    rows = session.execute(
        select(
            Extraction.capture_id,
            Extraction.title,
            Extraction.published_at,
            Extraction.authors,
            Extraction.text,
        )
        .where(Extraction.capture_id.in_(capture_ids), Extraction.extractor_id != extractor_id)
        .order_by(Extraction.id)
    )
    return {cid: PreviousExtraction(t, p, a, x) for cid, t, p, a, x in rows}


def add_extractions(session: Session, extracted: Sequence[tuple[int, Extracted]]) -> None:
    """Insert the extractions rows of these captures, in this order, in one executemany.

    Re-extraction writes a batch of rows it never reads back as objects (the rebuild
    queries them): a unit of work per row cost more than its insert.
    """
    if extracted:
        session.execute(_EXTRACTIONS.insert(), [extraction_values(c, e) for c, e in extracted])
