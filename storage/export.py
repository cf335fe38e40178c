"""Exports: articles as JSON Lines or CSV (streamed), captures as WARC or a CDXJ index.

- jsonl/csv: one row per article (or per version), streamed with `query.iter_articles`.
- warc: the original records, copied byte for byte (each record is its own gzip member in
  our WARC files), each response followed by its request record, after a new warcinfo.
- cdxj: a pywb-compatible index of the archive's own WARC files (filename/offset/length
  point into `warc_dir`), sorted by SURT key and timestamp with an external merge sort,
  so memory stays flat however large the archive.
"""

from __future__ import annotations

import csv
import heapq
import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import surt  # type: ignore[import-untyped]
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from storage.models import CaptureRow
from storage.query import iter_articles
from storage.search import Filters
from storage.warc import WarcReadError, WarcStore, read_member

CSV_FIELDS = [
    "id",
    "site",
    "url",
    "canonical_url",
    "title",
    "seo_title",
    "authors",
    "published_at",
    "modified_at",
    "language",
    "categories",
    "tags",
    "version",
    "versions",
    "first_seen_at",
    "last_seen_at",
    "cluster_id",
    "status",
    "text",
]
_SORT_CHUNK = 100_000


@dataclass(frozen=True, slots=True)
class CaptureFilters:
    """Which captures a WARC/CDXJ export covers (fetch time, not publication date)."""

    site: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    articles_only: bool = False


def export_jsonl(
    session: Session, out: IO[str], filters: Filters | None = None, *, all_versions: bool = False
) -> int:
    """Write one JSON object per line; returns the number of rows."""
    n = 0
    for row in iter_articles(session, filters, all_versions=all_versions):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


def export_csv(
    session: Session, out: IO[str], filters: Filters | None = None, *, all_versions: bool = False
) -> int:
    """Write CSV with a header; list fields are joined with '; '. Returns the number of rows."""
    fields = CSV_FIELDS + (
        ["version_first_seen_at", "version_last_seen_at", "change_kind"] if all_versions else []
    )
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    n = 0
    for row in iter_articles(session, filters, all_versions=all_versions):
        writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()})
        n += 1
    return n


def _captures(f: CaptureFilters) -> Select[CaptureRow]:
    stmt = select(CaptureRow).order_by(CaptureRow.id)
    if f.site:
        stmt = stmt.where(CaptureRow.site == f.site)
    if f.since:
        stmt = stmt.where(CaptureRow.fetched_at >= f.since)
    if f.until:
        stmt = stmt.where(CaptureRow.fetched_at < f.until)
    if f.articles_only:
        stmt = stmt.where(CaptureRow.page_kind == "article")
    return stmt.execution_options(yield_per=1000)


def _iter_captures(session: Session, f: CaptureFilters) -> Iterator[CaptureRow]:
    for cap in session.scalars(_captures(f)):
        yield cap
        session.expunge(cap)


def _record_id(member: bytes) -> tuple[str | None, str | None, str | None]:
    """(WARC-Type, WARC-Record-ID, WARC-Concurrent-To) of one gzip member."""
    for rec in ArchiveIterator(io.BytesIO(member)):
        get = rec.rec_headers.get_header
        return get("WARC-Type"), get("WARC-Record-ID"), get("WARC-Concurrent-To")
    return None, None, None


def _exchange(store: WarcStore, cap: CaptureRow) -> bytes:
    """The capture's record as stored, plus the request record written right after it."""
    raw = store.read_raw(cap.warc_file, cap.warc_offset, cap.warc_length)
    with open(store.directory / cap.warc_file, "rb") as fh:
        fh.seek(cap.warc_offset)
        first = read_member(fh)  # ValueError when corrupt: the caller skips this capture
        if first is None or first[1] != cap.warc_length:
            raise ValueError("no complete gzip member at the stored offset")
        nxt = _read_member_safely(fh)
    if nxt is None:
        return raw
    _, rid, _ = _record_id(first[0])
    rtype, _, concurrent = _record_id(nxt[0])
    if rtype == "request" and rid and concurrent == rid:
        fh_start = cap.warc_offset + cap.warc_length
        return raw + store.read_raw(cap.warc_file, fh_start, nxt[1])
    return raw


def _read_member_safely(fh: Any) -> tuple[bytes, int] | None:
    try:
        return read_member(fh)
    except ValueError:  # a torn tail after the response: export the response alone
        return None


def export_warc(
    session: Session,
    store: WarcStore,
    out: IO[bytes],
    f: CaptureFilters | None = None,
    skipped: list[str] | None = None,
) -> int:
    """Write a WARC file of the original captures; returns the number of captures written.

    A capture whose stored record cannot be read back (corrupt or missing WARC file) is
    left out, and described in `skipped` ("file@offset: why") when a list is given.
    """
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True, warc_version="1.1")
    name = getattr(out, "name", "export.warc.gz")
    info = {
        "software": "newsarchive export",
        "format": "WARC File Format 1.1",
        "description": "original captures copied from the newsarchive WARC store",
    }
    writer.write_record(writer.create_warcinfo_record(str(name), info))
    out.write(buf.getvalue())
    n = 0
    for cap in _iter_captures(session, f or CaptureFilters()):
        try:
            exchange = _exchange(store, cap)
        except (OSError, ValueError, WarcReadError) as exc:
            if skipped is not None:
                skipped.append(f"{cap.warc_file}@{cap.warc_offset}: {exc}")
            continue
        out.write(exchange)
        n += 1
    return n


def cdxj_line(cap: CaptureRow) -> str:
    """One CDXJ line (SURT key, 14-digit timestamp, JSON) for a stored capture."""
    url = cap.final_url or cap.url
    when = cap.fetched_at.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    revisit = cap.record_kind == "revisit"
    fields: dict[str, Any] = {
        "url": url,
        "mime": "warc/revisit" if revisit else (cap.content_type or "unk").split(";")[0].strip(),
        "status": str(cap.status),
        "digest": (cap.payload_digest or "-").removeprefix("sha1:"),
        "length": str(cap.warc_length),
        "offset": str(cap.warc_offset),
        "filename": cap.warc_file,
    }
    return f"{surt.surt(url)} {when} {json.dumps(fields)}"


def export_cdxj(session: Session, out: IO[str], f: CaptureFilters | None = None) -> int:
    """Write a sorted CDXJ index of the archive's WARC files; returns the number of lines."""
    with tempfile.TemporaryDirectory(prefix="newsarchive-cdxj-") as tmp:
        runs: list[Path] = []
        chunk: list[str] = []

        def spill() -> None:
            path = Path(tmp) / f"run-{len(runs):05d}"
            chunk.sort()
            path.write_text("".join(line + "\n" for line in chunk), encoding="utf-8")
            runs.append(path)
            chunk.clear()

        n = 0
        for cap in _iter_captures(session, f or CaptureFilters()):
            chunk.append(cdxj_line(cap))
            n += 1
            if len(chunk) >= _SORT_CHUNK:
                spill()
        if chunk:
            spill()
        files = [p.open(encoding="utf-8") for p in runs]
        try:
            out.writelines(heapq.merge(*files))
        finally:
            for fh in files:
                fh.close()
    return n
