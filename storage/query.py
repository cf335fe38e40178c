"""The read side of the archive: search, one article and its history, diffs, stats, iteration.

Everything here takes a SQLAlchemy session (open one with ``Archive(url, readonly=True)``,
so reads never block a crawl) and returns plain dataclasses or dicts; the CLI only formats
them. Dates in dicts are ISO 8601 strings with an offset.

Example::

    from storage.db import Archive
    from storage import query

    with Archive("sqlite:///archive.db", readonly=True) as archive, archive.session() as s:
        for hit in query.search(s, '"city council" budget', query.Filters(site="ledger")):
            print(hit.article_id, hit.published_at, hit.title)
        article = query.get_article(s, "https://news.example.com/2024/05/06/budget/")
        print(article["title"], article["versions"])
        print(query.diff(s, article["id"]).unified())
        for row in query.iter_articles(s, query.Filters(since=query.parse_when("2024-01-01"))):
            ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from storage import textdiff
from storage.durations import parse_duration
from storage.errors import NotFound, QueryError
from storage.ingest import find_article
from storage.models import Article, CaptureRow, CrawlRun, Extraction, Site, Version
from storage.search import Filters, Hit, parse_query, search
from storage.textdiff import Segment

__all__ = [
    "ArticleDiff",
    "Filters",
    "Hit",
    "SiteStats",
    "VersionInfo",
    "article_history",
    "diff",
    "get_article",
    "iter_articles",
    "parse_query",
    "parse_when",
    "resolve_article",
    "search",
    "stats",
]

_MAX_ID = 2**63 - 1  # larger cannot be an id on either database
_AGE = re.compile(r"^\d+\s*[hdw]$")


def parse_when(value: str, *, end: bool = False) -> datetime:
    """A user's date as an aware datetime: 2024-05-06, 2024-05, 2024, ISO 8601, or 7d/12h/2w ago.

    With ``end=True`` a bare date means the end of that day (month, year), so that
    ``--until 2024-05-06`` includes the 6th. Naive times are taken as UTC.
    """
    raw = value.strip()
    try:
        when = _parse_when(raw, value, end)
        # Normalised to UTC here: an offset at the edge of the calendar (0001-01-01+14:00)
        # overflows now, as one line, not later inside the database driver.
        return when.astimezone(UTC)
    except (OverflowError, ValueError):
        raise QueryError(f"date out of range: {value!r}") from None


def _parse_when(raw: str, value: str, end: bool) -> datetime:
    if _AGE.match(raw):
        return datetime.now(UTC) - parse_duration(raw)
    for fmt, step in (("%Y-%m-%d", "day"), ("%Y-%m", "month"), ("%Y", "year")):
        try:
            start = datetime.strptime(raw, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        if not end:
            return start
        if step == "day":
            return start + timedelta(days=1)
        if step == "month":
            return (start + timedelta(days=32)).replace(day=1)
        return start.replace(year=start.year + 1)
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise QueryError(
            f"bad date {value!r}: use YYYY-MM-DD, an ISO 8601 time, or an age like 7d"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def iso(when: datetime | None, tz_minutes: int | None = None) -> str | None:
    """ISO 8601 with an offset: the page's own offset when known, else UTC."""
    if when is None:
        return None
    tz = timezone(timedelta(minutes=tz_minutes)) if tz_minutes is not None else UTC
    return when.astimezone(tz).isoformat()


# -- articles ---------------------------------------------------------------------------


def resolve_article(session: Session, ref: str | int) -> Article:
    """The article with this id, or known under this URL (any variant); NotFound otherwise."""
    text = str(ref).strip()
    if text.isascii() and text.isdigit():  # not "²", which str.isdigit() accepts
        number = int(text)
        article = session.get(Article, number) if number <= _MAX_ID else None
    elif "://" in text:
        try:
            article = find_article(session, text)
        except ValueError:
            article = None
    else:
        raise QueryError(f"{text!r} is neither an article id nor a URL")
    if article is None:
        raise NotFound("article", ref)
    return article


def _article_select(all_versions: bool) -> Select[Article, Version, Extraction, str, str | None]:
    """Articles joined to the version(s) wanted, their extraction and capture."""
    version_on = Version.article_id == Article.id
    if not all_versions:
        version_on = and_(version_on, Version.n == Article.current_version)
    return (
        select(Article, Version, Extraction, CaptureRow.url, CaptureRow.final_url)
        .outerjoin(Version, version_on)
        .outerjoin(Extraction, Extraction.id == Version.extraction_id)
        .outerjoin(CaptureRow, CaptureRow.id == Extraction.capture_id)
    )


def _article_dict(
    a: Article,
    v: Version | None,
    e: Extraction | None,
    url: str | None,
    final_url: str | None,
    *,
    from_version: bool,
) -> dict[str, Any]:
    """An article as DESIGN.md's JSON; with from_version the content is that version's."""
    src: Any = e if (from_version and e is not None) else a
    pub_tz = e.published_tz if e is not None and e.published_at == src.published_at else None
    mod_tz = e.modified_tz if e is not None and e.modified_at == src.modified_at else None
    out: dict[str, Any] = {
        "id": a.id,
        "site": a.site,
        "url": final_url or url or a.canonical_url,
        "canonical_url": a.canonical_url,
        "title": src.title,
        "seo_title": src.seo_title,
        "authors": list(src.authors or []),
        "published_at": iso(src.published_at, pub_tz),
        "modified_at": iso(src.modified_at, mod_tz),
        "language": src.language,
        "categories": list(e.categories or []) if e is not None else [],
        "tags": list(e.tags or []) if e is not None else [],
        "text": src.text,
        "version": v.n if v is not None else a.current_version,
        "versions": a.current_version,
        "first_seen_at": iso(a.first_seen_at),
        "last_seen_at": iso(a.last_seen_at),
        "cluster_id": a.cluster_id,
        "status": a.status,
    }
    if from_version and v is not None:
        out["version_first_seen_at"] = iso(v.first_seen_at)
        out["version_last_seen_at"] = iso(v.last_seen_at)
        out["change_kind"] = v.change_kind
    return out


def get_article(session: Session, ref: str | int) -> dict[str, Any]:
    """One article (by id or any URL it was seen under) as a JSON-ready dict."""
    article = resolve_article(session, ref)
    row = session.execute(_article_select(False).where(Article.id == article.id)).one()
    return _article_dict(*row, from_version=False)


def iter_articles(
    session: Session,
    filters: Filters | None = None,
    *,
    all_versions: bool = False,
    batch_size: int = 500,
    where: Sequence[ColumnElement[bool]] = (),
) -> Iterator[dict[str, Any]]:
    """Stream articles (or every version of each) as dicts, in id order, without loading all.

    Uses ``yield_per``: a server-side cursor on PostgreSQL, incremental fetching on SQLite.
    `where` adds clauses on `articles` (e.g. a full-text match, see storage.browse).
    """
    from storage.search import filter_clauses

    clauses = [*filter_clauses(session, filters or Filters()), *where]
    stmt = _article_select(all_versions).where(*clauses)
    stmt = stmt.order_by(Article.id, Version.n).execution_options(yield_per=batch_size)
    for row in session.execute(stmt):
        yield _article_dict(*row, from_version=all_versions)
        session.expunge_all()  # keep the identity map from growing with the archive


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version of an article with the extraction it was made from."""

    n: int
    title: str | None
    text: str | None
    authors: list[str]
    published_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    change_kind: str | None
    chars_added: int
    chars_removed: int
    extractor_id: str
    capture_id: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO dates)."""
        return {
            "n": self.n,
            "title": self.title,
            "authors": self.authors,
            "published_at": iso(self.published_at),
            "first_seen_at": iso(self.first_seen_at),
            "last_seen_at": iso(self.last_seen_at),
            "change_kind": self.change_kind,
            "chars_added": self.chars_added,
            "chars_removed": self.chars_removed,
            "extractor_id": self.extractor_id,
            "capture_id": self.capture_id,
            "text": self.text,
        }


def article_history(session: Session, ref: str | int) -> tuple[dict[str, Any], list[VersionInfo]]:
    """The article (as get_article) and every version of it, oldest first."""
    article = get_article(session, ref)
    rows = session.execute(
        select(Version, Extraction)
        .join(Extraction, Extraction.id == Version.extraction_id)
        .where(Version.article_id == article["id"])
        .order_by(Version.n)
    ).all()
    return article, [
        VersionInfo(
            n=v.n,
            title=v.title,
            text=e.text,
            authors=list(e.authors or []),
            published_at=e.published_at,
            first_seen_at=v.first_seen_at,
            last_seen_at=v.last_seen_at,
            change_kind=v.change_kind,
            chars_added=v.chars_added,
            chars_removed=v.chars_removed,
            extractor_id=e.extractor_id,
            capture_id=e.capture_id,
        )
        for v, e in rows
    ]


@dataclass(frozen=True, slots=True)
class ArticleDiff:
    """What changed between two versions of one article, word by word."""

    article_id: int
    canonical_url: str
    old: VersionInfo
    new: VersionInfo
    title: list[Segment]
    body: list[Segment]

    @property
    def changed(self) -> bool:
        """True when title or body differ."""
        return textdiff.changed(self.title) or textdiff.changed(self.body)

    def unified(self) -> str:
        """Plain text: a header, then the changed title and paragraphs in word-diff markup."""
        lines = [
            f"--- {self.canonical_url} v{self.old.n} (seen {iso(self.old.first_seen_at)})",
            f"+++ {self.canonical_url} v{self.new.n} (seen {iso(self.new.first_seen_at)})",
        ]
        if not self.changed:
            return "\n".join([*lines, "(no change in title or text)"])
        if textdiff.changed(self.title):
            lines += ["@@ title @@", textdiff.render_plain(self.title).split("\n", 1)[1]]
        if textdiff.changed(self.body):
            lines.append(textdiff.render_plain(self.body))
        return "\n".join(lines)


def diff(
    session: Session, ref: str | int, from_n: int | None = None, to_n: int | None = None
) -> ArticleDiff:
    """Diff two versions (default: the previous one against the current one)."""
    article, versions = article_history(session, ref)
    by_n = {v.n: v for v in versions}
    if not versions:
        raise QueryError(f"article {article['id']} has no versions")
    to_n = to_n if to_n is not None else versions[-1].n
    from_n = from_n if from_n is not None else max(1, to_n - 1)
    for n in (to_n, from_n):
        if n not in by_n:
            raise QueryError(f"article {article['id']} has versions 1..{versions[-1].n}, not {n}")
    old, new = by_n[from_n], by_n[to_n]
    return ArticleDiff(
        article_id=article["id"],
        canonical_url=article["canonical_url"],
        old=old,
        new=new,
        title=textdiff.word_diff(old.title, new.title),
        body=textdiff.word_diff(old.text, new.text),
    )


# -- stats ------------------------------------------------------------------------------


@dataclass
class Health:
    """Extraction health over a set of article captures: shares in 0..1."""

    pages: int = 0
    empty_body: int = 0
    missing_date: int = 0
    missing_authors: int = 0

    def add(self, has_text: bool, has_date: bool, has_authors: bool) -> None:
        """Count one extracted article page."""
        self.pages += 1
        self.empty_body += not has_text
        self.missing_date += has_text and not has_date
        self.missing_authors += has_text and not has_authors

    def as_dict(self) -> dict[str, Any]:
        """Counts and shares (dates/authors are shares of the pages that had a body)."""
        bodies = self.pages - self.empty_body
        return {
            "pages": self.pages,
            "empty_body": _share(self.empty_body, self.pages),
            "missing_date": _share(self.missing_date, bodies),
            "missing_authors": _share(self.missing_authors, bodies),
        }


def _share(n: int, of: int) -> float | None:
    return round(n / of, 3) if of else None


@dataclass
class SiteStats:
    """Per-site numbers for `newsarchive stats`."""

    site: str
    name: str | None
    articles: int
    versions: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    health: Health = field(default_factory=Health)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "site": self.site,
            "name": self.name,
            "articles": self.articles,
            "versions": self.versions,
            "health": self.health.as_dict(),
            "warnings": self.warnings,
            "runs": self.runs,
        }


# A run whose share of empty bodies (or missing dates/authors) exceeds the earlier runs' by
# this much is flagged: that is what a site changing its layout looks like.
HEALTH_JUMP = 0.25


def stats(session: Session, *, last_runs: int = 5) -> list[SiteStats]:
    """Per site: articles, versions, the last runs, and extraction health over those runs."""
    articles = dict(
        session.execute(select(Article.site, func.count()).group_by(Article.site)).tuples().all()
    )
    versions = dict(
        session.execute(
            select(Article.site, func.count(Version.id))
            .join(Version, Version.article_id == Article.id)
            .group_by(Article.site)
        )
        .tuples()
        .all()
    )
    names = dict(session.execute(select(Site.key, Site.name)).tuples().all())
    run_sites = session.scalars(select(CrawlRun.site).where(CrawlRun.site.is_not(None)).distinct())
    keys = sorted(set(articles) | set(names) | {s for s in run_sites if s})
    return [
        _site_stats(
            session, key, names.get(key), articles.get(key, 0), versions.get(key, 0), last_runs
        )
        for key in keys
    ]


def _site_stats(
    session: Session, key: str, name: str | None, n_articles: int, n_versions: int, last: int
) -> SiteStats:
    out = SiteStats(key, name, n_articles, n_versions)
    runs = session.scalars(
        select(CrawlRun)
        .where(CrawlRun.site == key)
        .order_by(CrawlRun.started_at.desc())
        .limit(last)
    ).all()
    per_run: dict[int, Health] = {r.id: Health() for r in runs}
    if per_run:
        # The newest extraction of each article capture in those runs (re-extraction included).
        newest = (
            select(func.max(Extraction.id))
            .join(CaptureRow, CaptureRow.id == Extraction.capture_id)
            .where(CaptureRow.crawl_run_id.in_(per_run), CaptureRow.page_kind == "article")
            .group_by(Extraction.capture_id)
        )
        rows = session.execute(
            select(
                CaptureRow.crawl_run_id,
                Extraction.text.is_not(None),
                Extraction.published_at.is_not(None),
                Extraction.authors,
            )
            .join(CaptureRow, CaptureRow.id == Extraction.capture_id)
            .where(Extraction.id.in_(newest), Extraction.state != "not_article")
        )
        for run_id, has_text, has_date, authors in rows:
            if run_id is None:
                continue
            health = per_run[run_id]
            health.add(bool(has_text), bool(has_date), bool(authors))
            out.health.add(bool(has_text), bool(has_date), bool(authors))
    for r in runs:
        h = per_run[r.id].as_dict()
        out.runs.append(
            {
                "id": r.id,
                "status": r.status,
                "trigger": r.trigger,
                "started_at": iso(r.started_at),
                "finished_at": iso(r.finished_at),
                "stats": r.stats,
                "health": h,
            }
        )
    out.warnings = _health_warnings(out.runs)
    return out


def _health_warnings(runs: list[dict[str, Any]]) -> list[str]:
    """Flag the newest run when its health is much worse than the runs before it."""
    measured = [r for r in runs if r["health"]["pages"]]
    if len(measured) < 2:
        return []
    newest, earlier = measured[0], measured[1:]
    out = []
    for metric in ("empty_body", "missing_date", "missing_authors"):
        now = newest["health"][metric]
        before = [r["health"][metric] for r in earlier if r["health"][metric] is not None]
        if now is None or not before:
            continue
        baseline = sum(before) / len(before)
        if now - baseline >= HEALTH_JUMP:
            out.append(
                f"run {newest['id']}: {metric.replace('_', ' ')} {now:.0%} "
                f"(earlier runs {baseline:.0%}): has the site's layout changed?"
            )
    return out
