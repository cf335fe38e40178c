"""Byte streams of the web UI: a capture as archived (sandboxed), its WARC record, exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from crawler.web.params import BadRequest, filters_of, int_param, state_of, text_param
from storage import browse, query
from storage.db import Archive
from storage.export import CSV_FIELDS
from storage.search import parse_query
from storage.warc import WarcStore

RAW_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; "
    "font-src 'none'; media-src 'none'; frame-src 'none'; connect-src 'none'; "
    "form-action 'none'; base-uri 'none'; navigate-to 'none'"
)


def _store_and_capture(request: Request) -> tuple[WarcStore, Any, Any]:
    st = state_of(request)
    capture_id = int_param(request.path_params["id"], "capture id")
    if st.warc_dir is None:
        raise BadRequest("no WARC directory configured: start serve with a config file", 404)
    with st.archive.session() as s:
        capture = browse.get_capture(s, capture_id)
        payload = browse.payload_capture(s, capture)
        s.expunge_all()
    return WarcStore(st.warc_dir), capture, payload


def raw_capture(request: Request) -> Response:
    """The archived page as fetched, sandboxed: no script, nothing loaded from anywhere."""
    store, capture, holder = _store_and_capture(request)
    if holder.record_kind == "revisit":
        raise BadRequest(f"capture {capture.id} is a revisit of a capture not in the archive", 404)
    rec = store.read(holder.warc_file, holder.warc_offset)
    ctype = next((v for k, v in rec.headers if k.lower() == "content-type"), None)
    headers = {
        "Content-Security-Policy": RAW_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "private, max-age=3600",
    }
    return Response(rec.payload, media_type=ctype or "application/octet-stream", headers=headers)


def warc_record(request: Request) -> Response:
    """The capture's WARC record, byte for byte as stored (one gzip member)."""
    store, capture, _ = _store_and_capture(request)
    data = store.read_raw(capture.warc_file, capture.warc_offset, capture.warc_length)
    return Response(
        data,
        media_type="application/warc",
        headers={
            "Content-Disposition": f'attachment; filename="capture-{capture.id}.warc.gz"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def export(request: Request) -> Response:
    """The search's matches (all of them, not one page) as CSV or JSON Lines, streamed."""
    fmt = request.query_params.get("format") or "jsonl"
    if fmt not in ("csv", "jsonl"):
        raise BadRequest(f"format must be csv or jsonl, not {fmt[:20]!r}")
    q = text_param(request, "q")
    filters = filters_of(request)
    st = state_of(request)
    if q is not None:
        parse_query(q)  # a malformed query is a 400 here, not a broken stream
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    return StreamingResponse(
        _export_rows(st.archive, q, filters, fmt),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="search.{fmt}"'},
    )


def _export_rows(
    archive: Archive, q: str | None, filters: query.Filters, fmt: str
) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore")
    if fmt == "csv":
        writer.writeheader()
    with archive.session() as s:
        where = [browse.match_clause(s, q)] if q else []
        for row in query.iter_articles(s, filters, where=where):
            if fmt == "csv":
                writer.writerow(
                    {k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()}
                )
            else:
                buf.write(json.dumps(row, ensure_ascii=False) + "\n")
            if buf.tell() > 1 << 16:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()
