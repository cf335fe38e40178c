"""Read functions for browsing the archive (the web UI): facets, per-day counts, captures, runs.

Like storage.query, everything takes a session (open it with ``Archive(url, readonly=True)``)
and returns JSON-ready dicts with ISO 8601 dates; nothing here writes. Works the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from storage.errors import NotFound
from storage.models import Article, ArticleUrl, CaptureRow, CrawlRun, Extraction, Version
from storage.query import iso
from storage.search import Filters, filter_clauses, parse_query, to_fts5

MAX_FACET_VALUES = 12


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _day(session: Session, column: Any) -> ColumnElement[str]:
    """YYYY-MM-DD of a UTC timestamp column, as text on both backends."""
    if _dialect(session) == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)


def _month(session: Session, column: Any) -> ColumnElement[str]:
    """YYYY-MM of a UTC timestamp column."""
    if _dialect(session) == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.substr(column, 1, 7)


def match_clause(session: Session, query: str) -> ColumnElement[bool]:
    """WHERE clause on `articles` for a web-search query (the same matching as search())."""
    if _dialect(session) == "postgresql":
        parse_query(query)  # same validation and messages as on SQLite
        tsq = func.websearch_to_tsquery(literal_column("'simple'"), query)
        return literal_column("articles.search_vector").op("@@")(tsq)  # type: ignore[no-any-return]
    matching = text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q").bindparams(
        q=to_fts5(query)
    )
    return Article.id.in_(matching.columns(rowid=Integer))


def facets(session: Session, query: str, filters: Filters) -> dict[str, Any]:
    """How many articles match, by site, language and year-month of publication."""
    where = [match_clause(session, query), *filter_clauses(session, filters)]
    month = _month(session, Article.published_at)
    # One pass over the matches (the full-text match is the costly part), folded here.
    rows = session.execute(
        select(Article.site, Article.language, month, func.count())
        .where(*where)
        .group_by(Article.site, Article.language, month)
    ).all()
    counts: dict[str, Counter[str]] = {"site": Counter(), "language": Counter(), "month": Counter()}
    total = 0
    for site, language, ym, n in rows:
        total += n
        for name, value in (("site", site), ("language", language), ("month", ym)):
            if value is not None:
                counts[name][value] += n
    out: dict[str, Any] = {"total": total}
    for name, counter in counts.items():
        ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_FACET_VALUES]
        out[name] = [{"value": v, "count": n} for v, n in ranked]
    return out


def articles_per_day(session: Session, days: int = 30) -> list[dict[str, Any]]:
    """Articles published per day over the `days` days up to the newest publication date.

    Dates more than a day in the future (a site's bad metadata) are left out.
    """
    cap = datetime.now(UTC) + timedelta(days=1)
    newest = session.scalar(
        select(func.max(Article.published_at)).where(Article.published_at < cap)
    )
    if newest is None:
        return []
    start = (newest - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    day = _day(session, Article.published_at)
    rows = session.execute(
        select(day, func.count())
        .where(Article.published_at >= start, Article.published_at < cap)
        .group_by(day)
    ).all()
    counts = {d: n for d, n in rows}
    first = start.date()
    return [
        {"day": d, "count": counts.get(d, 0)}
        for d in ((first + timedelta(days=i)).isoformat() for i in range(days))
    ]


def article_extras(session: Session, article_id: int) -> dict[str, Any]:
    """What an article page shows beyond get_article: date sources, URL variants, captures,
    and the other articles of its near-duplicate cluster."""
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound("article", article_id)
    current = session.execute(
        select(Extraction)
        .join(Version, Version.extraction_id == Extraction.id)
        .where(Version.article_id == article_id, Version.n == article.current_version)
    ).scalar_one_or_none()
    variants = session.scalars(
        select(ArticleUrl.url).where(ArticleUrl.article_id == article_id).order_by(ArticleUrl.id)
    ).all()
    urls = sorted({article.canonical_url, *variants})
    version_captures = select(Extraction.capture_id).join(
        Version, Version.extraction_id == Extraction.id
    )
    captures = session.scalars(
        select(CaptureRow)
        .where(
            or_(
                CaptureRow.url.in_(urls),
                CaptureRow.id.in_(version_captures.where(Version.article_id == article_id)),
            )
        )
        .order_by(CaptureRow.fetched_at, CaptureRow.id)
        .limit(500)
    ).all()
    cluster: list[dict[str, Any]] = []
    if article.cluster_id is not None:
        others = session.execute(
            select(Article.id, Article.site, Article.title, Article.canonical_url)
            .where(Article.cluster_id == article.cluster_id, Article.id != article_id)
            .order_by(Article.id)
            .limit(50)
        ).all()
        cluster = [{"id": i, "site": s, "title": t, "canonical_url": u} for i, s, t, u in others]
    return {
        "published_source": current.published_source if current else None,
        "modified_source": current.modified_source if current else None,
        "description": current.description if current else None,
        "urls": urls,
        "captures": [capture_summary(c) for c in captures],
        "cluster": cluster,
    }


def capture_summary(c: CaptureRow) -> dict[str, Any]:
    """One capture row as a dict (no WARC read)."""
    return {
        "id": c.id,
        "url": c.url,
        "final_url": c.final_url,
        "status": c.status,
        "content_type": c.content_type,
        "fetched_at": iso(c.fetched_at),
        "payload_digest": c.payload_digest,
        "warc_file": c.warc_file,
        "warc_offset": c.warc_offset,
        "warc_length": c.warc_length,
        "record_kind": c.record_kind,
        "revisit_of": c.revisit_of,
        "crawl_run_id": c.crawl_run_id,
        "page_kind": c.page_kind,
        "site": c.site,
    }


def get_capture(session: Session, capture_id: int) -> CaptureRow:
    """The capture row; NotFound otherwise."""
    capture = session.get(CaptureRow, capture_id)
    if capture is None:
        raise NotFound("capture", capture_id)
    return capture


def payload_capture(session: Session, capture: CaptureRow) -> CaptureRow:
    """The capture whose record holds the payload: a revisit's original (followed a few hops)."""
    seen = {capture.id}
    while capture.record_kind == "revisit" and capture.revisit_of is not None:
        original = session.get(CaptureRow, capture.revisit_of)
        if original is None or original.id in seen:
            break
        seen.add(original.id)
        capture = original
    return capture


def capture_detail(session: Session, capture_id: int) -> dict[str, Any]:
    """A capture with its extractions (one per extractor id) and the article they fed."""
    capture = get_capture(session, capture_id)
    rows = session.execute(
        select(Extraction, Version.article_id, Version.n)
        .outerjoin(Version, Version.extraction_id == Extraction.id)
        .where(Extraction.capture_id == capture_id)
        .order_by(Extraction.id)
    ).all()
    extractions = [
        {
            "id": e.id,
            "extractor_id": e.extractor_id,
            "state": e.state,
            "title": e.title,
            "authors": list(e.authors or []),
            "published_at": iso(e.published_at, e.published_tz),
            "published_source": e.published_source,
            "language": e.language,
            "chars": len(e.text or ""),
            "error": e.error,
            "created_at": iso(e.created_at),
            "article_id": article_id,
            "version": n,
        }
        for e, article_id, n in rows
    ]
    article_id = next((x["article_id"] for x in extractions if x["article_id"]), None)
    if article_id is None:
        article_id = session.scalar(
            select(ArticleUrl.article_id).where(ArticleUrl.url == capture.url).limit(1)
        )
    return {**capture_summary(capture), "extractions": extractions, "article_id": article_id}


def _run_dict(r: CrawlRun) -> dict[str, Any]:
    stats = r.stats or {}
    return {
        "id": r.id,
        "site": r.site,
        "trigger": r.trigger,
        "schedule_id": r.schedule_id,
        "fire_time": iso(r.fire_time),
        "started_at": iso(r.started_at),
        "finished_at": iso(r.finished_at),
        "status": r.status,
        "error": r.error,
        "host": r.host,
        "pid": r.pid,
        "stats": stats,
    }


def runs(
    session: Session, *, site: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """Crawl runs, newest first, and how many there are in all."""
    stmt = select(CrawlRun)
    count = select(func.count()).select_from(CrawlRun)
    if site:
        stmt, count = stmt.where(CrawlRun.site == site), count.where(CrawlRun.site == site)
    total = session.scalar(count) or 0
    rows = session.scalars(
        stmt.order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit).offset(offset)
    ).all()
    return total, [_run_dict(r) for r in rows]


def run_detail(session: Session, run_id: int) -> dict[str, Any]:
    """One crawl run with its captures counted by page kind and HTTP status."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise NotFound("crawl run", run_id)
    by_kind = session.execute(
        select(CaptureRow.page_kind, CaptureRow.status, func.count())
        .where(CaptureRow.crawl_run_id == run_id)
        .group_by(CaptureRow.page_kind, CaptureRow.status)
        .order_by(CaptureRow.page_kind, CaptureRow.status)
    ).all()
    return {
        **_run_dict(run),
        "captures": [{"page_kind": k, "status": s, "count": n} for k, s, n in by_kind],
    }
