"""What an archive holds at a glance: counts, latest articles, edits, near-duplicates.

Used by `newsarchive demo` to show what a crawl archived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Article, Version


@dataclass(frozen=True, slots=True)
class ArticleLine:
    """One article, as a line of a listing."""

    id: int
    site: str
    title: str | None
    url: str
    published_at: datetime | None
    authors: tuple[str, ...]
    version: int


@dataclass
class Overview:
    """Counts, the latest articles, edits and clusters of near-duplicates."""

    articles: int = 0
    versions: int = 0
    by_site: dict[str, int] = field(default_factory=dict)
    latest: list[ArticleLine] = field(default_factory=list)
    edited: int = 0
    smallest_edit: int | None = None  # the article whose v1 -> v2 changed least
    clusters: dict[int, list[ArticleLine]] = field(default_factory=dict)


def _line(a: Article) -> ArticleLine:
    return ArticleLine(
        a.id, a.site, a.title, a.canonical_url, a.published_at, tuple(a.authors or ()),
        a.current_version,
    )  # fmt: skip


def overview(session: Session, latest: int = 5) -> Overview:
    """The archive at a glance."""
    out = Overview()
    out.articles = session.scalar(select(func.count()).select_from(Article)) or 0
    out.versions = session.scalar(select(func.count()).select_from(Version)) or 0
    rows = session.execute(select(Article.site, func.count()).group_by(Article.site))
    out.by_site = {site: n for site, n in rows}
    out.latest = [
        _line(a)
        for a in session.scalars(
            select(Article).order_by(Article.published_at.desc().nulls_last()).limit(latest)
        )
    ]
    out.edited = (
        session.scalar(select(func.count()).select_from(Article).where(Article.current_version > 1))
        or 0
    )
    # The edit with the fewest characters changed: the point is to see what changed.
    out.smallest_edit = session.scalar(
        select(Version.article_id)
        .where(Version.n == 2)
        .order_by(Version.chars_added + Version.chars_removed, Version.article_id)
        .limit(1)
    )
    clustered = session.scalars(
        select(Article.cluster_id)
        .where(Article.cluster_id.is_not(None))
        .group_by(Article.cluster_id)
        .having(func.count() > 1)
    ).all()
    for cluster_id in clustered:
        if cluster_id is None:
            continue
        members = session.scalars(select(Article).where(Article.cluster_id == cluster_id))
        out.clusters[cluster_id] = [_line(a) for a in members]
    return out
