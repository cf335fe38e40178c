"""Versioning rules, used by record() and by rebuild (re-extraction) alike.

A new version only when the normalised title+body hash changes; an unchanged re-fetch only
moves last_seen_at; a paywalled lead never replaces a fuller current text; near-duplicates
seen within a few days share a cluster id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from storage import fingerprints, textdiff
from storage.models import Article, Extraction, Version
from storage.records import Outcome

CLUSTER_MAX_DISTANCE = 3
CLUSTER_WINDOW = timedelta(days=4)

_ARTICLES = cast(Table, Article.__table__)
# Built once: cluster_of runs for every new article version on the archive writer thread.
_CANDIDATES = select(_ARTICLES.c.id, _ARTICLES.c.simhash, _ARTICLES.c.cluster_id).where(
    _ARTICLES.c.id != bindparam("article_id"),
    or_(
        _ARTICLES.c.simhash_band0 == bindparam("band0"),
        _ARTICLES.c.simhash_band1 == bindparam("band1"),
        _ARTICLES.c.simhash_band2 == bindparam("band2"),
        _ARTICLES.c.simhash_band3 == bindparam("band3"),
    ),
    _ARTICLES.c.first_seen_at >= bindparam("since"),
    _ARTICLES.c.first_seen_at <= bindparam("until"),
)
# Built once: add_version runs for every capture of an article a re-extraction rebuilds.
_CURRENT_VERSION = select(Version).where(
    Version.article_id == bindparam("article_id"), Version.n == bindparam("n")
)


def seen_again(session: Session, article: Article, seen_at: datetime) -> None:
    """The same content again: only the article's and its current version's last_seen_at move."""
    article.last_seen_at = max(article.last_seen_at, seen_at)
    session.execute(
        update(Version)
        .where(Version.article_id == article.id, Version.n == article.current_version)
        .values(last_seen_at=seen_at)
    )


def article_status(extraction: Extraction) -> str:
    """The article's status while this extraction is its current text."""
    return "paywalled" if extraction.state == "paywalled" else "ok"


def content_hash_of(extraction: Extraction) -> str:
    """The hash that decides whether an extraction is a new version."""
    return extraction.text_hash or fingerprints.content_hash(extraction.title, None)


def version_values(
    article_id: int,
    n: int,
    extraction: Extraction,
    seen_at: datetime,
    kind: str | None = None,
    added: int = 0,
    removed: int = 0,
) -> dict[str, Any]:
    """The versions row for version `n` of an article, column by column."""
    return {
        "article_id": article_id,
        "n": n,
        "extraction_id": extraction.id,
        "content_hash": content_hash_of(extraction),
        "title": extraction.title,
        "seo_title": extraction.seo_title,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "change_kind": kind,
        "chars_added": added,
        "chars_removed": removed,
    }


def simhash_values(signed: int | None) -> dict[str, int | None]:
    """The article's simhash and its four 16-bit bands (the near-duplicate index)."""
    bands: Sequence[int | None] = (
        fingerprints.bands(fingerprints.from_signed64(signed)) if signed is not None else [None] * 4
    )
    return {"simhash": signed, **{f"simhash_band{i}": band for i, band in enumerate(bands)}}


def add_version(
    session: Session, article: Article, extraction: Extraction, seen_at: datetime
) -> tuple[Outcome, int, int]:
    """Compare with the current version; add a version when the content hash changed.

    Returns the outcome (new, changed or unchanged) and the chars added/removed.
    """
    content_hash = content_hash_of(extraction)
    current = None
    if article.current_version:
        current = session.scalars(
            _CURRENT_VERSION, {"article_id": article.id, "n": article.current_version}
        ).one()
    paywalled = extraction.state == "paywalled"
    status = article_status(extraction)
    if current is not None and current.content_hash == content_hash:
        current.last_seen_at = max(current.last_seen_at, seen_at)
        article.last_seen_at = max(article.last_seen_at, seen_at)
        _mirror_metadata(article, extraction)
        article.status = status
        return Outcome.UNCHANGED, 0, 0
    if current is not None and paywalled and _fuller(session, current, extraction):
        # A metered paywall shows the full text on one fetch and the lead on the next:
        # the lead never replaces the fuller text, or versions would flip back and forth.
        current.last_seen_at = max(current.last_seen_at, seen_at)
        article.last_seen_at = max(article.last_seen_at, seen_at)
        article.status = status
        return Outcome.UNCHANGED, 0, 0

    added = removed = 0
    kind = None
    if current is not None:
        old = session.get(Extraction, current.extraction_id)
        old_text = (old.text if old else "") or ""
        added, removed = textdiff.diff_size(
            f"{current.title or ''}\n\n{old_text}",
            f"{extraction.title or ''}\n\n{extraction.text or ''}",
        )
        title_changed = fingerprints.normalize_text(current.title or "") != (
            fingerprints.normalize_text(extraction.title or "")
        )
        body_changed = fingerprints.normalize_text(old_text) != fingerprints.normalize_text(
            extraction.text or ""
        )
        kind = "both" if title_changed and body_changed else "title" if title_changed else "body"
        if not (title_changed or body_changed):
            kind = "metadata"
    n = article.current_version + 1
    session.add(Version(**version_values(article.id, n, extraction, seen_at, kind, added, removed)))
    article.current_version = n
    article.last_seen_at = max(article.last_seen_at, seen_at)
    article.last_changed_at = seen_at
    article.status = status
    article.title = extraction.title
    article.seo_title = extraction.seo_title
    article.text = extraction.text
    _mirror_metadata(article, extraction)
    set_simhash(article, extraction.simhash)
    session.flush()
    cluster(session, article)
    return (Outcome.NEW if n == 1 else Outcome.CHANGED), added, removed


def _fuller(session: Session, current: Version, extraction: Extraction) -> bool:
    """True when the current version's text is longer than this (paywalled) extraction's."""
    old = session.get(Extraction, current.extraction_id)
    old_text = fingerprints.normalize_text((old.text if old else "") or "")
    return len(old_text) > len(fingerprints.normalize_text(extraction.text or ""))


def _mirror_metadata(article: Article, extraction: Extraction) -> None:
    article.authors = extraction.authors
    article.published_at = extraction.published_at or article.published_at
    article.modified_at = extraction.modified_at or article.modified_at
    article.language = extraction.language or article.language


def set_simhash(article: Article, signed: int | None) -> None:
    """Store the article's simhash and its four 16-bit bands (the near-duplicate index)."""
    for column, value in simhash_values(signed).items():
        setattr(article, column, value)


def cluster(session: Session, article: Article) -> None:
    """Join the cluster of a near-duplicate seen within a few days (banded simhash lookup)."""
    if article.simhash is None or article.simhash_band0 is None:
        return
    bands = (
        article.simhash_band0,
        article.simhash_band1,
        article.simhash_band2,
        article.simhash_band3,
    )
    cluster_of(
        session, article.id, article.simhash, bands, article.first_seen_at, article.cluster_id
    )


def cluster_of(
    session: Session,
    article_id: int,
    simhash: int | None,
    bands: Sequence[int | None] | None,
    first_seen_at: datetime,
    cluster_id: int | None,
) -> None:
    """cluster() for an article given by its columns (record() inserts new ones as Core rows)."""
    if simhash is None or bands is None or bands[0] is None:
        return
    # Crawl time, not the page's claimed date: wire copies are fetched within days of each
    # other, and published_at is missing or wrong too often to gate on.
    when = first_seen_at
    candidates = session.execute(
        _CANDIDATES,
        {
            "article_id": article_id,
            "band0": bands[0],
            "band1": bands[1],
            "band2": bands[2],
            "band3": bands[3],
            "since": when - CLUSTER_WINDOW,
            "until": when + CLUSTER_WINDOW,
        },
    ).all()
    mine = fingerprints.from_signed64(simhash)
    near = [
        c
        for c in candidates
        if c.simhash is not None
        and fingerprints.hamming(mine, fingerprints.from_signed64(c.simhash))
        <= CLUSTER_MAX_DISTANCE
    ]
    if not near:
        return
    found = {c.cluster_id for c in near if c.cluster_id is not None}
    if cluster_id is not None:
        found.add(cluster_id)
    new_id = min([*found, article_id, *(c.id for c in near)])
    # Merge whole clusters, not just the neighbours found: A~C and B~C put A, B, C and
    # everything already clustered with A or B under one id.
    members = [article_id, *(c.id for c in near)]
    stmt = update(_ARTICLES).values(cluster_id=new_id)
    if found:
        stmt = stmt.where(or_(_ARTICLES.c.id.in_(members), _ARTICLES.c.cluster_id.in_(found)))
    else:
        stmt = stmt.where(_ARTICLES.c.id.in_(members))
    session.execute(stmt)
    # A Core UPDATE: bring the articles this session has loaded up to date by hand (what
    # the ORM's synchronize_session does, without its extra SELECT or RETURNING pass).
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Article) and (
            obj.__dict__.get("id") in members or obj.__dict__.get("cluster_id") in found
        ):
            set_committed_value(obj, "cluster_id", new_id)
