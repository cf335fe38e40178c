"""WarcStore: what lands in the WARC files and what comes back out of them."""

from __future__ import annotations

import gzip
import logging
import os
import random
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.records import RecordKind
from storage.warc import (
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    PreviousCapture,
    WarcReadError,
    WarcStore,
    WrittenRecord,
    payload_digest,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)
REQUEST_HEADERS = [("User-Agent", "newsarchive-test"), ("Accept", "text/html")]


def page(n: int, size: int = 3000) -> bytes:
    """A distinct, not trivially compressible HTML body."""
    filler = random.Random(n).randbytes(size // 2).hex()
    return f"<html><body><h1>Article {n}</h1><p>{filler}</p></body></html>".encode()


def write_page(store: WarcStore, n: int, **kwargs: object) -> WrittenRecord:
    """Write page n as a plain 200 response unless kwargs say otherwise."""
    args: dict[str, object] = {
        "url": f"http://news.test/2024/05/article-{n}?ref=home",
        "request_headers": REQUEST_HEADERS,
        "status": 200,
        "response_headers": [("Content-Type", "text/html; charset=utf-8"), ("ETag", f'"{n}"')],
        "body": page(n),
        "fetched_at": T0 + timedelta(minutes=n),
    }
    args.update(kwargs)
    return store.write_exchange(**args)  # type: ignore[arg-type]


def warcio_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the warcio command of this virtualenv."""
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", *args], capture_output=True, text=True, check=False
    )


def test_each_exchange_reads_back_by_file_and_offset(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        written = [write_page(store, n) for n in range(5)]
    for n, rec in enumerate(written):
        got = store.read(rec.warc_file, rec.offset)
        assert got.record_type == "response"
        assert got.url == f"http://news.test/2024/05/article-{n}?ref=home"
        assert got.status == 200
        assert got.date == T0 + timedelta(minutes=n)
        assert ("ETag", f'"{n}"') in got.headers
        assert ("Content-Type", "text/html; charset=utf-8") in got.headers
        assert got.payload == page(n)
        assert got.payload_digest == rec.payload_digest == payload_digest(page(n))
        assert rec.record_kind is RecordKind.RESPONSE


def test_read_raw_is_the_gzip_member_on_disk(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        written = [write_page(store, n) for n in range(3)]
    data = (tmp_path / written[0].warc_file).read_bytes()
    for rec in written:
        raw = store.read_raw(rec.warc_file, rec.offset, rec.length)
        assert raw == data[rec.offset : rec.offset + rec.length]
        # exactly one complete member: it decompresses on its own to one WARC record
        assert gzip.decompress(raw).startswith(b"WARC/1.1\r\nWARC-Type: response\r\n")


def test_payload_digest_matches_hashlib_sha1_base32() -> None:
    assert payload_digest(b"") == "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"


def test_files_pass_warcio_check_and_index(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        first = write_page(store, 1)
        write_page(store, 2, previous=PreviousCapture(first.payload_digest or "", "u", T0))
        write_page(store, 1, previous=PreviousCapture(first.payload_digest or "", "u", T0))
        write_page(store, 3, status=304, body=b"")
    path = str(tmp_path / first.warc_file)
    check = warcio_cli("check", "-v", path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout
    index = warcio_cli("index", "-f", "warc-type,offset", path)
    assert index.returncode == 0, index.stderr
    types = [line.split('"warc-type": "')[1].split('"')[0] for line in index.stdout.splitlines()]
    assert types == ["warcinfo"] + ["response", "request"] * 2 + ["revisit", "request"] * 2


def test_every_file_starts_with_warcinfo_and_rotation_gives_unique_names(tmp_path: Path) -> None:
    with WarcStore(tmp_path, max_file_size=4_000, hostname="crawl-1.example") as store:
        written = [write_page(store, n) for n in range(6)]
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) >= 3
    assert sorted({w.warc_file for w in written}) == files
    for name in files:
        assert name.startswith("newsarchive-")
        assert name.endswith(f"-crawl-1.example-{os.getpid()}.warc.gz")
        first = next(store.iter_records(name))[2]
        assert first.record_type == "warcinfo"
        assert b"software: newsarchive/" in first.payload
        assert b"hostname: crawl-1.example" in first.payload
        assert b"format: WARC File Format 1.1" in first.payload
    for n, rec in enumerate(written):
        assert store.read(rec.warc_file, rec.offset).payload == page(n)


def test_two_stores_in_one_directory_never_share_a_file(tmp_path: Path) -> None:
    a, b = WarcStore(tmp_path), WarcStore(tmp_path)
    ra, rb = write_page(a, 1), write_page(b, 2)
    a.close()
    b.close()
    assert ra.warc_file != rb.warc_file
    assert a.read(ra.warc_file, ra.offset).payload == page(1)
    assert b.read(rb.warc_file, rb.offset).payload == page(2)


def test_identical_payload_becomes_revisit_pointing_at_previous(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        first = write_page(store, 7)
        assert first.payload_digest is not None
        prev = PreviousCapture(first.payload_digest, "http://news.test/old-url", T0)
        again = write_page(store, 7, previous=prev, fetched_at=T0 + timedelta(days=1))
    assert again.record_kind is RecordKind.REVISIT
    assert again.payload_digest == first.payload_digest
    got = store.read(again.warc_file, again.offset)
    assert got.record_type == "revisit"
    assert got.status == 200
    assert got.payload == b""
    assert got.payload_digest == first.payload_digest
    assert got.refers_to_uri == "http://news.test/old-url"
    assert got.refers_to_date == "2024-05-01T12:00:00.250000Z"
    raw = gzip.decompress(store.read_raw(again.warc_file, again.offset, again.length))
    assert f"WARC-Profile: {PROFILE_IDENTICAL}".encode() in raw


def test_changed_payload_is_a_full_response_even_with_previous(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        prev = PreviousCapture(payload_digest(page(1)), "http://news.test/x", T0)
        rec = write_page(store, 2, previous=prev)
    assert rec.record_kind is RecordKind.RESPONSE
    assert store.read(rec.warc_file, rec.offset).payload == page(2)


def test_304_becomes_server_not_modified_revisit(tmp_path: Path) -> None:
    prev = PreviousCapture(payload_digest(page(3)), "http://news.test/a", T0)
    with WarcStore(tmp_path) as store:
        rec = write_page(store, 3, status=304, body=b"", previous=prev)
        bare = write_page(store, 4, status=304, body=b"", response_headers=[])
    assert rec.record_kind is RecordKind.REVISIT
    assert rec.payload_digest == prev.payload_digest
    got = store.read(rec.warc_file, rec.offset)
    assert (got.record_type, got.status) == ("revisit", 304)
    assert ("ETag", '"3"') in got.headers
    assert got.refers_to_uri == "http://news.test/a"
    raw = gzip.decompress(store.read_raw(rec.warc_file, rec.offset, rec.length))
    assert f"WARC-Profile: {PROFILE_NOT_MODIFIED}".encode() in raw
    assert b"HTTP/1.1 304 Not Modified\r\n" in raw
    # Without a known previous capture there is nothing to refer to, but it is still a revisit.
    assert bare.payload_digest is None
    got_bare = store.read(bare.warc_file, bare.offset)
    assert (got_bare.record_type, got_bare.status, got_bare.refers_to_uri) == ("revisit", 304, None)


def test_decoded_body_stored_with_encoding_headers_renamed(tmp_path: Path) -> None:
    body = page(9)
    headers = [
        ("Content-Type", "text/html"),
        ("Content-Encoding", "gzip"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "812"),
        ("Vary", "Accept-Encoding"),
    ]
    with WarcStore(tmp_path) as store:
        rec = write_page(store, 9, response_headers=headers, body=body)
    got = store.read(rec.warc_file, rec.offset)
    assert got.payload == body
    names = [name.lower() for name, _ in got.headers]
    assert "content-encoding" not in names
    assert "transfer-encoding" not in names
    assert ("Content-Length", str(len(body))) in got.headers
    assert ("X-Archive-Orig-Content-Encoding", "gzip") in got.headers
    assert ("X-Archive-Orig-Transfer-Encoding", "chunked") in got.headers
    assert ("X-Archive-Orig-Content-Length", "812") in got.headers
    assert ("Vary", "Accept-Encoding") in got.headers
    assert warcio_cli("check", str(tmp_path / rec.warc_file)).returncode == 0


def test_request_record_follows_response_with_host_and_path(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        rec = write_page(store, 1)
    records = list(store.iter_records(rec.warc_file))
    offsets = [off for off, _, _ in records]
    req = records[offsets.index(rec.offset) + 1][2]
    assert req.record_type == "request"
    assert req.url == "http://news.test/2024/05/article-1?ref=home"
    assert req.headers[0] == ("Host", "news.test")
    assert ("User-Agent", "newsarchive-test") in req.headers
    raw_start = records[offsets.index(rec.offset) + 1][0]
    raw = gzip.decompress((tmp_path / rec.warc_file).read_bytes()[raw_start:])
    assert b"GET /2024/05/article-1?ref=home HTTP/1.1\r\n" in raw


def test_iter_records_offsets_and_lengths_match_written(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        written = [write_page(store, n) for n in range(4)]
    listed = {(off, length) for off, length, r in store.iter_records(written[0].warc_file)}
    assert {(w.offset, w.length) for w in written} <= listed
    total = sum(length for _, length in listed)
    assert total == (tmp_path / written[0].warc_file).stat().st_size


def test_torn_last_record_is_skipped_and_earlier_ones_still_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with WarcStore(tmp_path) as store:
        written = [write_page(store, n) for n in range(4)]
    path = tmp_path / written[0].warc_file
    data = path.read_bytes()
    last = written[-1]
    good = written[:-1]
    # Cut inside the gzip header, the WARC headers, the body, the trailer, then the request.
    cuts = [last.offset + k for k in (1, 9, 40, last.length // 2, last.length - 3)]
    cuts.append(last.offset + last.length + 20)
    for cut in cuts:
        path.write_bytes(data[:cut])
        intact = written if cut > last.offset + last.length else good
        with caplog.at_level(logging.WARNING, logger="storage.warc"):
            records = list(store.iter_records(last.warc_file))
        responses = [(off, r.payload) for off, _, r in records if r.record_type == "response"]
        assert responses == [(w.offset, page(n)) for n, w in enumerate(intact)], cut
        assert "stopping at offset" in caplog.text
        caplog.clear()
        for n, w in enumerate(intact):
            assert store.read(w.warc_file, w.offset).payload == page(n)
        if intact is good:
            with pytest.raises(WarcReadError, match="truncated"):
                store.read(last.warc_file, last.offset)


def test_read_errors_name_the_record(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        rec = write_page(store, 1)
    with pytest.raises(WarcReadError, match=r"nope\.warc\.gz@0"):
        store.read("nope.warc.gz", 0)
    with pytest.raises(WarcReadError):
        store.read(rec.warc_file, rec.offset + 5)
    with pytest.raises(WarcReadError, match="outside"):
        store.read("../elsewhere.warc.gz", 0)
    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(gzip.compress(b"HTTP/1.1 200 OK\r\n\r\nnot a warc record"))
    with pytest.raises(WarcReadError, match="not a WARC record"):
        store.read("garbage.warc.gz", 0)
    with pytest.raises(WarcReadError):
        store.read_raw(rec.warc_file, rec.offset, 10**9)


def test_concurrent_writers_produce_a_valid_file(tmp_path: Path) -> None:
    results: list[WrittenRecord] = []
    store = WarcStore(tmp_path)

    def worker(base: int) -> None:
        for n in range(base, base + 10):
            results.append(write_page(store, n))

    threads = [threading.Thread(target=worker, args=(b,)) for b in (0, 100, 200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert len({(r.warc_file, r.offset) for r in results}) == 30
    for r in results:
        assert store.read(r.warc_file, r.offset).payload_digest == r.payload_digest
    assert warcio_cli("check", str(tmp_path / results[0].warc_file)).returncode == 0


def test_write_after_close_starts_a_new_file(tmp_path: Path) -> None:
    store = WarcStore(tmp_path, fsync=True)
    a = write_page(store, 1)
    store.close()
    b = write_page(store, 2)
    store.close()
    assert a.warc_file != b.warc_file
    assert store.read(b.warc_file, b.offset).payload == page(2)
