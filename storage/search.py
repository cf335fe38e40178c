"""Full-text search over the current version of every article, on SQLite and PostgreSQL.

One query language on both backends, the web-search one people already type:
``storm harbour`` (all words), ``"city council"`` (a phrase), ``budget OR tax``,
``-sport`` (exclude). On SQLite the query is rewritten into FTS5 syntax with every term
quoted, so punctuation and FTS5 keywords in user input are plain words, never a syntax
error; on PostgreSQL it goes to ``websearch_to_tsquery``. Ranking: FTS5 bm25 (title
weighted 10:1) or ``ts_rank`` over the A/B-weighted ``search_vector``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from storage.db import is_postgresql
from storage.errors import QueryError
from storage.models import Article

Sort = Literal["relevance", "date"]
SORTS: tuple[Sort, ...] = ("relevance", "date")
MAX_LIMIT = 10_000
# Title matches (headline or SEO title) weigh ten times body matches in bm25, like the A/B
# weights on PostgreSQL. Columns: title, text, seo_title (migration 0002).
_BM25 = "bm25(articles_fts, 10.0, 1.0, 10.0)"
_SNIPPET = "snippet(articles_fts, 1, '[', ']', '…', 16)"
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)
_FTS = table("articles_fts", column("rowid", Integer))


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions on which articles a search (or an export) considers."""

    site: str | None = None
    since: datetime | None = None  # published_at >= since
    until: datetime | None = None  # published_at < until
    author: str | None = None  # case-insensitive substring of any author
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: enough to list it; `storage.query.get_article` has the rest."""

    article_id: int
    site: str
    canonical_url: str
    title: str | None
    authors: list[str]
    published_at: datetime | None
    language: str | None
    version: int
    score: float
    snippet: str
    seo_title: str | None = None  # the metadata title kept beside the headline


@dataclass(frozen=True, slots=True)
class _Terms:
    """A parsed query: groups of alternatives (AND of ORs) and excluded terms."""

    groups: list[list[str]]  # each term is a phrase of one or more words
    excluded: list[str]


def parse_query(query: str) -> _Terms:
    """Parse web-search syntax; QueryError for an empty query or an unbalanced quote."""
    if query.count('"') % 2:
        raise QueryError(f"unbalanced quote in query {query!r}: close the phrase with '\"'")
    groups: list[list[str]] = []
    excluded: list[str] = []
    pending_or = False
    for m in _TOKEN.finditer(query):
        negate, phrase, bare = m.group(1), m.group(2), m.group(3)
        if bare is not None and bare == "OR":
            pending_or = bool(groups)
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            negate, bare = "-", bare[1:]
        words = _WORD.findall(phrase if phrase is not None else bare or "")
        if not words:
            continue
        term = " ".join(words)
        if negate:
            excluded.append(term)
        elif pending_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or = False
    if not groups:
        raise QueryError(
            f"query {query!r} has no word to search for (excluded words alone match nothing)"
        )
    return _Terms(groups, excluded)


def to_fts5(query: str) -> str:
    """The FTS5 MATCH expression for a web-search query; every term is quoted."""
    terms = parse_query(query)

    def q(term: str) -> str:
        return '"' + term.replace('"', '""') + '"'

    parts = []
    for group in terms.groups:
        alts = " OR ".join(q(t) for t in group)
        parts.append(f"({alts})" if len(group) > 1 else alts)
    expr = " AND ".join(parts)
    if terms.excluded:
        # One flat NOT (a OR b OR ...), not one nesting level per word: FTS5's parser has a
        # small stack, and ~100 nested NOTs overflow it.
        excluded = " OR ".join(q(t) for t in terms.excluded)
        expr = f"({expr}) NOT " + (f"({excluded})" if len(terms.excluded) > 1 else excluded)
    return expr


def filter_clauses(session: Session, filters: Filters) -> list[ColumnElement[bool]]:
    """WHERE clauses on `articles` for the filters (shared with export)."""
    out: list[ColumnElement[bool]] = []
    if filters.site:
        out.append(Article.site == filters.site)
    if filters.since:
        out.append(Article.published_at >= filters.since)
    if filters.until:
        out.append(Article.published_at < filters.until)
    if filters.language:  # a prefix: "en" matches "en-GB"; % and _ are plain characters
        prefix = _like_escape(filters.language.lower()) + "%"
        out.append(func.lower(Article.language).like(prefix, "\\"))
    if filters.author:
        pattern = "%" + _like_escape(filters.author.lower()) + "%"
        if is_postgresql(session):
            each = func.json_array_elements_text(Article.authors).table_valued("value")
            folded = func.lower(each.c.value)
        else:
            each = func.json_each(Article.authors).table_valued("value")
            folded = func.na_lower(each.c.value)
            # SQLite's lower() folds ASCII only; "Álvarez" must match "álvarez".
            dbapi = session.connection().connection.dbapi_connection
            assert dbapi is not None
            dbapi.create_function("na_lower", 1, _lower, deterministic=True)
        out.append(exists(select(1).select_from(each).where(folded.like(pattern, "\\"))))
    return out


def search(
    session: Session,
    query: str,
    filters: Filters | None = None,
    *,
    sort: Sort = "relevance",
    limit: int = 20,
    offset: int = 0,
) -> list[Hit]:
    """Articles whose current title or text match `query`, best (or newest) first."""
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise QueryError(f"offset must be 0 or more, not {offset}")
    filters = filters or Filters()
    where = filter_clauses(session, filters)
    if is_postgresql(session):
        stmt = _postgres(query, sort, where, limit, offset)
    else:
        stmt = _sqlite(query, sort).where(*where).limit(limit).offset(offset)
    try:
        rows = session.execute(stmt).all()
    except (OperationalError, ProgrammingError) as exc:
        # Our rewriting should make this unreachable; if not, still one line, no traceback.
        raise QueryError(f"cannot run query {query!r}: {exc.orig}") from None
    return [_hit(row) for row in rows]


def _columns() -> list[Any]:
    return [
        Article.id,
        Article.site,
        Article.canonical_url,
        Article.title,
        Article.authors,
        Article.published_at,
        Article.language,
        Article.current_version,
    ]


def _order(sort: Sort, score: ColumnElement[Any]) -> list[Any]:
    if sort == "date":
        return [Article.published_at.desc().nulls_last(), Article.id.desc()]
    return [score.desc(), Article.id.desc()]


def _sqlite(query: str, sort: Sort) -> Select[Any]:
    score: ColumnElement[float] = (-literal_column(_BM25, Float)).label("score")
    snippet: ColumnElement[str] = literal_column(_SNIPPET).label("snippet")
    return (
        select(*_columns(), score, snippet, Article.seo_title)
        .select_from(Article)
        .join(_FTS, _FTS.c.rowid == Article.id)
        .where(text("articles_fts MATCH :q").bindparams(q=to_fts5(query)))
        .order_by(*_order(sort, score))
    )


def _postgres(
    query: str, sort: Sort, where: list[ColumnElement[bool]], limit: int, offset: int
) -> Select[Any]:
    parse_query(query)  # same validation and messages as on SQLite
    tsq = func.websearch_to_tsquery(literal_column("'simple'"), query)
    vector: ColumnElement[Any] = literal_column("articles.search_vector")
    score = func.ts_rank(vector, tsq).label("score")
    page = (
        select(Article.id.label("id"), score)
        .where(vector.op("@@")(tsq), *where)
        .order_by(*_order(sort, score))
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    # ts_headline re-parses the text, so it runs on the page of hits only, not every match.
    snippet = func.ts_headline(
        literal_column("'simple'"),
        func.coalesce(Article.text, ""),
        tsq,
        "StartSel=[, StopSel=], MaxWords=24, MinWords=8, MaxFragments=1",
    ).label("snippet")
    return (
        select(*_columns(), page.c.score, snippet, Article.seo_title)
        .join(page, page.c.id == Article.id)
        .order_by(*_order(sort, page.c.score))
    )


def _hit(row: Any) -> Hit:
    return Hit(
        article_id=row[0],
        site=row[1],
        canonical_url=row[2],
        title=row[3],
        authors=list(row[4] or []),
        published_at=row[5],
        language=row[6],
        version=row[7],
        score=float(f"{float(row[8] or 0.0):.6g}"),
        snippet=" ".join(str(row[9] or "").split()),
        seo_title=row[10],
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None
