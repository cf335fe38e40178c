"""WarcStore: append HTTP exchanges to gzipped WARC/1.1 files and read records back.

Layout: one gzip member per record; every file starts with a ``warcinfo`` record; a file
is closed and a new one started once it reaches ``max_file_size``. File names are
``{prefix}-{YYYYmmddHHMMSS}-{serial:05d}-{hostname}-{pid}.warc.gz`` and are final from the
first byte, so a database row can point at a file while it is still being written.

What is stored: the crawler hands us the body *after* transport decoding (Scrapy's
HttpCompressionMiddleware has already gunzipped it) together with the original headers.
Storing those headers unchanged would describe a gzip body that is not there, so, as
pywb and warcprox-style archivers do for decoded bodies, ``Content-Encoding`` and
``Transfer-Encoding`` are renamed to ``X-Archive-Orig-Content-Encoding`` /
``X-Archive-Orig-Transfer-Encoding`` and ``Content-Length`` is set to the stored body
length (a differing original value is kept as ``X-Archive-Orig-Content-Length``). The
payload digest is therefore the SHA-1 of the decoded body, which is what
:func:`payload_digest` computes.

Durability: each exchange (response or revisit, then request) is written with one
``write`` on an unbuffered file before ``write_exchange`` returns, optionally followed by
``os.fsync``; the caller commits the database row pointing at it afterwards. A crash
leaves at worst a torn last record, which the readers skip.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import socket
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import (
    StatusAndHeaders,
    StatusAndHeadersParser,
    StatusAndHeadersParserException,
)
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.warcwriter import WARCWriter
from zlib_ng import zlib_ng

from storage.errors import WarcError
from storage.records import RecordKind

log = logging.getLogger(__name__)

PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
_ORIG = "X-Archive-Orig-"
_READ_CHUNK = 1 << 16
GZIP_LEVEL = 6


class WarcReadError(WarcError):
    """A record could not be read: missing file, bad offset, or a torn record."""

    def __init__(self, warc_file: str, offset: int, reason: str) -> None:
        super().__init__(f"cannot read WARC record {warc_file}@{offset}: {reason}")
        self.warc_file = warc_file
        self.offset = offset


@dataclass(frozen=True, slots=True)
class PreviousCapture:
    """The last capture of a URL, as the crawler knows it from the database."""

    payload_digest: str
    url: str
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class WrittenRecord:
    """Where a response/revisit record was written; what a ``captures`` row stores."""

    warc_file: str  # relative to the store's directory
    offset: int
    length: int  # bytes of the gzip member
    payload_digest: str | None  # None only for a 304 with no known previous capture
    record_kind: RecordKind


@dataclass(frozen=True, slots=True)
class PreparedExchange:
    """An exchange's records (response or revisit, then request), deflated, ready to append."""

    members: bytes  # the response (or revisit) member, then the request member
    response_length: int  # bytes of the response member
    digest: str | None  # WARC-Payload-Digest of the body
    record_kind: RecordKind = RecordKind.RESPONSE


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One WARC record read back: HTTP status/headers and the payload as stored."""

    url: str
    record_type: str
    date: datetime
    status: int | None
    headers: list[tuple[str, str]]
    payload: bytes
    payload_digest: str | None
    refers_to_uri: str | None = None
    refers_to_date: str | None = None


def payload_digest(body: bytes) -> str:
    """The WARC-Payload-Digest of ``body`` as WARC writes it: ``sha1:`` + base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _iso(when: datetime) -> str:
    # WARC dates are UTC; naive datetimes are taken to be UTC already.
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return str(datetime_to_iso_date(when, use_micros=True))


def _warc_fields(record_type: str, url: str, date: str) -> dict[str, str]:
    # Given up front so the record starts with the conventional WARC-Type/ID/URI/Date order.
    return {
        "WARC-Type": record_type,
        "WARC-Record-ID": StatusAndHeadersParser.make_warc_id(),
        "WARC-Target-URI": url,
        "WARC-Date": date,
    }


def _stored_headers(headers: list[tuple[str, str]], body_len: int) -> list[tuple[str, str]]:
    """Headers that truthfully describe the decoded body we store (see module docstring)."""
    out: list[tuple[str, str]] = []
    length_set = False
    for name, value in headers:
        lname = name.lower()
        if lname in ("content-encoding", "transfer-encoding"):
            out.append((_ORIG + name, value))
        elif lname == "content-length":
            if value.strip() != str(body_len):
                out.append((_ORIG + name, value))
            if not length_set:
                out.append(("Content-Length", str(body_len)))
                length_set = True
        else:
            out.append((name, value))
    if not length_set:
        out.append(("Content-Length", str(body_len)))
    return out


def _software() -> str:
    try:
        ours = version("newsarchive")
    except PackageNotFoundError:
        ours = "unknown"
    return f"newsarchive/{ours} (warcio/{version('warcio')})"


def read_member(fh: BinaryIO) -> tuple[bytes, int] | None:
    """Decompress the gzip member at the current position: (data, member length).

    Returns None at a clean end of file; raises ValueError for a torn or corrupt member.
    We frame members with zlib ourselves because warcio's reader returns a short payload
    without complaint when a member is cut off, and we need each member's exact extent.
    """
    start = fh.tell()
    decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
    parts: list[bytes] = []
    read = 0
    while not decomp.eof:
        chunk = fh.read(_READ_CHUNK)
        if not chunk:
            if read == 0:
                return None
            raise ValueError(f"gzip member truncated after {read} bytes")
        read += len(chunk)
        try:
            parts.append(decomp.decompress(chunk))
        except zlib.error as exc:
            raise ValueError(f"corrupt gzip member: {exc}") from exc
    length = read - len(decomp.unused_data)
    fh.seek(start + length)
    return b"".join(parts), length


def _parse(data: bytes) -> StoredRecord:
    """Parse one uncompressed WARC record with warcio; ValueError if it is not one."""
    try:
        record = next(iter(ArchiveIterator(BytesIO(data))), None)
    except (ArchiveLoadFailed, StatusAndHeadersParserException) as exc:
        raise ValueError(f"not a WARC record: {exc}") from exc
    if record is None:
        raise ValueError("no WARC record in gzip member")
    body = record.raw_stream.read()
    declared = int(record.rec_headers.get_header("Content-Length") or 0)
    http = record.http_headers
    head_len = http.total_len if http is not None else 0
    # A member can be complete gzip yet hold a short record (e.g. written by another tool
    # that crashed); don't hand out a payload shorter than the record says.
    if record.rec_type != "revisit" and head_len + len(body) < declared:
        raise ValueError("record shorter than its Content-Length")
    status: int | None = None
    headers: list[tuple[str, str]] = []
    if http is not None and record.rec_type in ("response", "revisit"):
        status = int(http.get_statuscode())
    if http is not None:
        headers = [(str(k), str(v)) for k, v in http.headers]
    get = record.rec_headers.get_header
    return StoredRecord(
        url=get("WARC-Target-URI") or "",
        record_type=str(record.rec_type),
        date=iso_date_to_datetime(get("WARC-Date"), tz_aware=True),
        status=status,
        headers=headers,
        payload=body,
        payload_digest=get("WARC-Payload-Digest"),
        refers_to_uri=get("WARC-Refers-To-Target-URI"),
        refers_to_date=get("WARC-Refers-To-Date"),
    )


class WarcStore:
    """Append-only WARC files in one directory, plus readers by (file, offset).

    Writes are serialised by a lock (the crawler writes from one thread; the lock makes
    a second writer safe rather than corrupting). Readers open their own file handles.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        prefix: str = "newsarchive",
        max_file_size: int = 1 << 30,
        hostname: str | None = None,
        fsync: bool = False,
    ) -> None:
        """Use ``directory`` (created if missing); files start lazily on first write."""
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_file_size = max_file_size
        self.hostname = hostname or socket.gethostname()
        self.fsync = fsync
        self._safe_host = re.sub(r"[^A-Za-z0-9._-]+", "_", self.hostname)
        self._lock = threading.Lock()
        self._fh: BinaryIO | None = None
        self._name: str | None = None
        self._size = 0
        self._serial = 0
        self._writer = RecordBuilder(warc_version="1.1")

    # -- writing -------------------------------------------------------------

    def write_exchange(self, **exchange: Any) -> WrittenRecord:
        """Append one exchange (the arguments of ``prepare_exchange``): response or revisit
        record, then its request record. Flushed to the OS before returning."""
        return self.append_prepared(self.prepare_exchange(**exchange))

    def prepare_exchange(
        self,
        *,
        url: str,
        method: str = "GET",
        request_headers: list[tuple[str, str]],
        status: int,
        reason: str = "",
        response_headers: list[tuple[str, str]],
        body: bytes,
        fetched_at: datetime,
        protocol: str = "HTTP/1.1",
        previous: PreviousCapture | None = None,
        digest: str | None = None,
    ) -> PreparedExchange:
        """Build and deflate an exchange's records without touching the file: safe on any
        thread, so the deflate can run beside the database work (zlib-ng releases the GIL).
        ``append_prepared`` writes the result.

        A 304 becomes a server-not-modified revisit; a body whose digest equals
        ``previous.payload_digest`` becomes an identical-payload-digest revisit; anything
        else a response record. ``digest`` is the body's, when the caller has it already.
        """
        date = _iso(fetched_at)
        statusline = f"{status} {reason or _phrase(status)}".rstrip()
        kind = RecordKind.REVISIT
        if status == HTTPStatus.NOT_MODIFIED:
            digest = previous.payload_digest if previous else None
            http = StatusAndHeaders(statusline, list(response_headers), protocol=protocol)
            main = self._writer.create_warc_record(
                url,
                "revisit",
                http_headers=http,
                warc_headers_dict=_warc_fields("revisit", url, date),
            )
            main.rec_headers.add_header("WARC-Profile", PROFILE_NOT_MODIFIED)
            if previous is not None:
                main.rec_headers.add_header("WARC-Refers-To-Target-URI", previous.url)
                main.rec_headers.add_header("WARC-Refers-To-Date", _iso(previous.fetched_at))
                main.rec_headers.add_header("WARC-Payload-Digest", previous.payload_digest)
        else:
            digest = digest or payload_digest(body)
            headers = _stored_headers(response_headers, len(body))
            http = StatusAndHeaders(statusline, headers, protocol=protocol)
            if previous is not None and previous.payload_digest == digest:
                main = self._writer.create_revisit_record(
                    url,
                    digest,
                    previous.url,
                    _iso(previous.fetched_at),
                    http_headers=http,
                    warc_headers_dict=_warc_fields("revisit", url, date),
                )
            else:
                main = self._writer.create_warc_record(
                    url,
                    "response",
                    payload=BytesIO(body),
                    length=len(body),
                    http_headers=http,
                    warc_headers_dict={
                        **_warc_fields("response", url, date),
                        "WARC-Payload-Digest": digest,
                    },
                )
                kind = RecordKind.RESPONSE
        request = self._request_record(url, method, request_headers, protocol, date, main)
        main_bytes = self._member(main)
        return PreparedExchange(main_bytes + self._member(request), len(main_bytes), digest, kind)

    def append_prepared(self, prepared: PreparedExchange) -> WrittenRecord:
        """Append a prepared exchange (one write, flushed); where its response record lies."""
        with self._lock:
            offset = self._append(prepared.members)
            assert self._name is not None
            name = self._name
            self._maybe_rotate()
        return WrittenRecord(
            name, offset, prepared.response_length, prepared.digest, prepared.record_kind
        )

    def _request_record(
        self,
        url: str,
        method: str,
        headers: list[tuple[str, str]],
        protocol: str,
        date: str,
        concurrent_to: Any,
    ) -> Any:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = list(headers)
        # Scrapy leaves Host to Twisted, so it is missing here; the request did carry it.
        if not any(name.lower() == "host" for name, _ in request_headers):
            request_headers.insert(0, ("Host", parts.netloc))
        http = StatusAndHeaders(
            f"{method} {target} {protocol}", request_headers, is_http_request=True
        )
        record = self._writer.create_warc_record(
            url,
            "request",
            payload=BytesIO(b""),
            length=0,
            http_headers=http,
            warc_headers_dict={
                **_warc_fields("request", url, date),
                "WARC-Concurrent-To": concurrent_to.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        return record

    def _member(self, record: Any) -> bytes:
        """One record as one gzip member, built in memory so a failure writes nothing.

        warcio always compresses at level 9; level 6 takes about two thirds of the time
        for under 1% more bytes (bench/results/warc.md), and the member is the same
        format: one gzip stream per record. zlib-ng's deflate at the same level makes
        members of the same size (within 0.5% on the 181 benchmark pages) in about half
        zlib's CPU: compression was 85% of a WARC write, in the crawl process.
        """
        buf = BytesIO()
        WARCWriter(buf, gzip=False, warc_version="1.1").write_record(record)
        packer = zlib_ng.compressobj(GZIP_LEVEL, zlib_ng.DEFLATED, zlib_ng.MAX_WBITS | 16)
        return packer.compress(buf.getvalue()) + packer.flush()

    def _append(self, data: bytes) -> int:
        """Write ``data`` whole at the end of the current file; return its offset."""
        if self._fh is None:
            self._open_new()
        assert self._fh is not None
        offset = self._size
        view = memoryview(data)
        try:
            while view:
                n = self._fh.write(view)
                view = view[n:]
            if self.fsync:
                os.fsync(self._fh.fileno())
        except BaseException:
            # Leave no half record in the middle of the file for later records to follow.
            self._fh.truncate(offset)
            self._fh.seek(offset)
            raise
        self._size = offset + len(data)
        return offset

    def _open_new(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        while True:
            self._serial += 1
            name = (
                f"{self.prefix}-{stamp}-{self._serial:05d}-{self._safe_host}-{os.getpid()}.warc.gz"
            )
            try:
                # Unbuffered: each write goes straight to the OS, so "flushed" is by design.
                self._fh = open(self.directory / name, "xb", buffering=0)  # noqa: SIM115
            except FileExistsError:
                continue  # another store in this process, same second: take the next serial
            break
        self._name = name
        self._size = 0
        info = {
            "software": _software(),
            "hostname": self.hostname,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
            "warc-format/warc-1.1/",
        }
        self._append(self._member(self._writer.create_warcinfo_record(name, info)))

    def _maybe_rotate(self) -> None:
        if self._size >= self.max_file_size:
            self._close_file()

    def _close_file(self) -> None:
        if self._fh is not None:
            if self.fsync:
                os.fsync(self._fh.fileno())
            self._fh.close()
        self._fh = None
        self._name = None

    def close(self) -> None:
        """Close the current file; a later write starts a new one."""
        with self._lock:
            self._close_file()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading -------------------------------------------------------------

    def _path(self, warc_file: str) -> Path:
        root = self.directory.resolve()
        path = (root / warc_file).resolve()
        if not path.is_relative_to(root):
            raise WarcReadError(warc_file, 0, "path outside the WARC directory")
        return path

    def read(self, warc_file: str, offset: int) -> StoredRecord:
        """The record whose gzip member starts at ``offset`` in ``warc_file``."""
        try:
            with open(self._path(warc_file), "rb") as fh:
                fh.seek(offset)
                member = read_member(fh)
                if member is None:
                    raise ValueError("offset at end of file")
                return _parse(member[0])
        except (OSError, ValueError) as exc:
            raise WarcReadError(warc_file, offset, str(exc)) from exc

    def read_raw(self, warc_file: str, offset: int, length: int) -> bytes:
        """The stored bytes of one record's gzip member, for byte-for-byte comparison."""
        with open(self._path(warc_file), "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        if len(data) != length:
            raise WarcReadError(warc_file, offset, f"only {len(data)} of {length} bytes")
        return data

    def iter_records(self, warc_file: str) -> Iterator[tuple[int, int, StoredRecord]]:
        """Yield (offset, length, record) for every record; stop quietly at a torn tail."""
        with open(self._path(warc_file), "rb") as fh:
            while True:
                offset = fh.tell()
                try:
                    member = read_member(fh)
                    if member is None:
                        return
                    record = _parse(member[0])
                except (ValueError, EOFError) as exc:
                    log.warning("%s: stopping at offset %d: %s", warc_file, offset, exc)
                    return
                yield offset, member[1], record


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
