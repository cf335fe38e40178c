"""url_state: conditional-GET validators, the revisit ladder and per-URL back-off."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, exists, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from storage import urls
from storage.db import DIALECT_INSERTS, dialect_of
from storage.models import Article, ArticleUrl, CaptureRow, Extraction, UrlState

_URL_STATE = cast(Table, UrlState.__table__)
# Built once: the archive writer runs these for every page.
_INSERT_STATE = {
    name: insert(_URL_STATE)
    .on_conflict_do_nothing(index_elements=["url"])
    .returning(_URL_STATE.c.url)
    for name, insert in DIALECT_INSERTS.items()
}
_FIRST_REVISIT = update(_URL_STATE).where(_URL_STATE.c.url == bindparam("key"))


@dataclass(frozen=True, slots=True)
class UrlInfo:
    """What the archive knows about a URL before fetching it."""

    url: str
    known_article: bool = False
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None
    consecutive_errors: int = 0
    # A capture of this URL that never got an extraction (the crawl was killed in between):
    # re-extract it from WARC instead of fetching the page again.
    pending_capture_id: int | None = None

    def conditional_headers(self) -> dict[str, str]:
        """If-None-Match / If-Modified-Since from the last fetch's validators (RFC 9110)."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def lookup(session: Session, wanted: Sequence[str]) -> dict[str, UrlInfo]:
    """For each URL: is it an archived article (under any variant), and its validators."""
    if not wanted:
        return {}
    canon = {u: urls.canonicalize(u) for u in wanted}
    keys = sorted(set(wanted) | set(canon.values()))
    known: set[str] = set()
    for chunk in _chunks(keys, 500):
        known.update(
            s
            for s in session.scalars(
                select(Article.canonical_url).where(Article.canonical_url.in_(chunk))
            )
        )
        known.update(session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.in_(chunk))))
    states: dict[str, UrlState] = {}
    for chunk in _chunks(keys, 500):
        for row in session.scalars(select(UrlState).where(UrlState.url.in_(chunk))):
            states[row.url] = row
    unknown = [u for u in keys if u not in known]
    pending: dict[str, int] = {}
    for chunk in _chunks(unknown, 500):
        rows = session.execute(
            select(CaptureRow.url, CaptureRow.id).where(
                CaptureRow.url.in_(chunk),
                CaptureRow.page_kind == "article",
                CaptureRow.record_kind == "response",
                CaptureRow.status == 200,
                ~exists().where(Extraction.capture_id == CaptureRow.id),
            )
        ).all()
        for url, capture_id in rows:
            pending[url] = max(capture_id, pending.get(url, 0))
    out: dict[str, UrlInfo] = {}
    for u in wanted:
        st = states.get(u) or states.get(canon[u])
        out[u] = UrlInfo(
            url=u,
            known_article=u in known or canon[u] in known,
            etag=st.etag if st else None,
            last_modified=st.last_modified if st else None,
            payload_digest=st.last_payload_digest if st else None,
            consecutive_errors=st.consecutive_errors if st else 0,
            pending_capture_id=pending.get(u) or pending.get(canon[u]),
        )
    return out


def note_fetch(
    session: Session,
    url: str,
    *,
    site: str | None,
    page_kind: str,
    status: int | None,
    fetched_at: datetime,
    etag: str | None = None,
    last_modified: str | None = None,
    payload_digest: str | None = None,
    error: bool = False,
    backoff_base: timedelta = timedelta(minutes=10),
) -> None:
    """Record a fetch's outcome: validators on success, a growing back-off on failure."""
    row = session.get(UrlState, url)
    if row is None:
        # A URL fetched for the first time (every page of a first crawl): one INSERT of the
        # row as the rules below leave a fresh one, not an INSERT and then an UPDATE.
        fresh = UrlState(
            url=url,
            site=site,
            page_kind=page_kind,
            consecutive_errors=0,
            revisit_step=0,
            unchanged_checks=0,
        )
        _apply_fetch(
            fresh,
            page_kind,
            status,
            fetched_at,
            etag,
            last_modified,
            payload_digest,
            error,
            backoff_base,
        )
        values = {c.key: getattr(fresh, c.key) for c in _URL_STATE.columns}
        if session.execute(_INSERT_STATE[dialect_of(session)], values).first() is not None:
            return
        row = session.get(UrlState, url)  # another worker inserted it just now
        assert row is not None
    _apply_fetch(
        row, page_kind, status, fetched_at, etag, last_modified, payload_digest, error, backoff_base
    )


def _apply_fetch(
    row: UrlState,
    page_kind: str,
    status: int | None,
    fetched_at: datetime,
    etag: str | None,
    last_modified: str | None,
    payload_digest: str | None,
    error: bool,
    backoff_base: timedelta,
) -> None:
    row.last_status = status
    row.last_checked_at = fetched_at
    row.page_kind = row.page_kind or page_kind
    if error:
        row.consecutive_errors += 1
        # Exponential back-off per URL; the revisit job skips it until then.
        row.next_check_at = fetched_at + backoff_base * (2 ** min(row.consecutive_errors, 10))
        return
    row.consecutive_errors = 0
    if status == 304:
        row.unchanged_checks += 1
        return
    if etag is not None or last_modified is not None:
        row.etag, row.last_modified = etag, last_modified
    if payload_digest is not None:
        if payload_digest == row.last_payload_digest:
            row.unchanged_checks += 1
        row.last_payload_digest = payload_digest


def schedule_revisit(
    session: Session,
    url: str,
    *,
    article_id: int,
    ladder: Sequence[timedelta],
    checked_at: datetime,
    first: bool,
) -> None:
    """Move a URL along its revisit ladder.

    `first` (a new article) starts the ladder at step 0.
    Otherwise the ladder moves one step only when this check was due: an article that a
    category page links to is fetched on every run, and those fetches must not use up the
    1d/3d/7d checks that catch late edits.
    """
    if first and session.identity_map.get(identity_key(UrlState, url)) is None:
        # A new article: the step does not depend on the row, so one UPDATE (a no-op when
        # there is no row), not a SELECT and then an UPDATE. No object of this row is
        # loaded in the session (checked above), so none goes stale.
        next_check = checked_at + ladder[0] if ladder else None
        session.execute(
            _FIRST_REVISIT,
            {"key": url, "article_id": article_id, "revisit_step": 0, "next_check_at": next_check},
        )
        return
    row = session.get(UrlState, url)
    if row is None:
        return
    row.article_id = article_id
    if not first and (row.next_check_at is None or checked_at < row.next_check_at):
        return
    step = 0 if first else row.revisit_step + 1
    row.revisit_step = step
    row.next_check_at = checked_at + ladder[step] if step < len(ladder) else None


def end_revisits(session: Session, url: str) -> None:
    """Stop revisiting a URL (the article is gone: 404/410)."""
    row = session.get(UrlState, url)
    if row is not None:
        row.next_check_at = None


def due_revisits(session: Session, site: str, now: datetime, limit: int = 1000) -> list[str]:
    """Article URLs of `site` whose next revisit is due."""
    return list(
        session.scalars(
            select(UrlState.url)
            .where(
                UrlState.site == site,
                UrlState.article_id.is_not(None),
                UrlState.next_check_at.is_not(None),
                UrlState.next_check_at <= now,
            )
            .order_by(UrlState.next_check_at)
            .limit(limit)
        )
    )


def _chunks(items: Sequence[str], n: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


__all__ = ["UrlInfo", "due_revisits", "end_revisits", "lookup", "note_fetch", "schedule_revisit"]
