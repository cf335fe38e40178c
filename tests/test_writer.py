"""The archive writer hands a capture to extraction once its WARC record is written, before
the batch holding its captures row commits; the row itself still commits after the record."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from warcio.archiveiterator import ArchiveIterator

from crawler.writer import ArchiveWriter, Exchange
from storage.db import Archive
from storage.models import CaptureRow
from storage.records import PageKind
from storage.warc import WarcStore

BODY = b"<html><head><title>Rates held</title></head><body><p>The bank held.</p></body></html>"


def _exchange(url: str = "http://127.0.0.1:8000/2026/11/30/rates/") -> Exchange:
    return Exchange(
        url=url,
        final_url=url,
        status=200,
        request_headers=[("User-Agent", "test")],
        response_headers=[("Content-Type", "text/html; charset=utf-8")],
        body=BODY,
        fetched_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        page_kind=PageKind.ARTICLE,
        site=None,
        crawl_run_id=None,
    )


@pytest.fixture
def archive(sqlite_url: str) -> Iterator[Archive]:
    with Archive(sqlite_url) as opened:
        yield opened


def _captures(archive: Archive) -> int:
    """Committed captures rows, as a reader sees them (a writer session would wait)."""
    with Archive(archive.url, migrate=False, readonly=True) as reader, reader.sessions() as s:
        return s.scalar(select(func.count()).select_from(CaptureRow)) or 0


def test_capture_is_readable_from_warc_before_its_row_commits(
    archive: Archive, tmp_path: Path
) -> None:
    warc = WarcStore(tmp_path / "warc")
    writer = ArchiveWriter(archive, warc, batch_wait=0.5)
    release = threading.Event()
    try:
        future = writer.capture(_exchange())
        writer.submit(lambda _s: release.wait(10))  # same batch: holds its commit back
        written = future.written.result(timeout=10)
        # Extraction may start now: the payload is in WARC, the row not yet committed.
        assert warc.read(written.capture.warc_file, written.capture.warc_offset).payload == BODY
        assert not future.done()
        assert _captures(archive) == 0
        release.set()
        assert future.result(timeout=10).id == written.id
        assert _captures(archive) == 1
    finally:
        release.set()
        writer.close()


def test_a_failed_capture_fails_its_early_future_too(archive: Archive, tmp_path: Path) -> None:
    warc = WarcStore(tmp_path / "warc")
    shutil.rmtree(tmp_path / "warc")  # the WARC file cannot be created: the job fails
    writer = ArchiveWriter(archive, warc)
    try:
        future = writer.capture(_exchange())
        with pytest.raises(FileNotFoundError):
            future.written.result(timeout=10)
        with pytest.raises(FileNotFoundError):
            future.result(timeout=10)
        assert _captures(archive) == 0
    finally:
        writer.close()


def test_a_failing_job_does_not_undo_the_others_in_its_batch(
    archive: Archive, tmp_path: Path
) -> None:
    """A batch commits in one go; when one job fails, the others are run again one by one and
    commit, and each capture's WARC record is still written once."""
    warc = WarcStore(tmp_path / "warc")
    writer = ArchiveWriter(archive, warc, batch_wait=0.5)
    try:
        first = writer.capture(_exchange("http://127.0.0.1:8000/2026/11/30/one/"))
        bad = writer.submit(lambda _s: 1 / 0)
        second = writer.capture(_exchange("http://127.0.0.1:8000/2026/11/30/two/"))
        refs = [first.result(timeout=10), second.result(timeout=10)]
        with pytest.raises(ZeroDivisionError):
            bad.result(timeout=10)
    finally:
        writer.close()
    assert _captures(archive) == 2
    records = []
    for path in sorted((tmp_path / "warc").iterdir()):
        with path.open("rb") as fh:
            records += [
                r.rec_headers.get_header("WARC-Target-URI")
                for r in ArchiveIterator(fh)
                if r.rec_type == "response"
            ]
    assert sorted(records) == sorted(r.capture.url for r in refs)
    for ref in refs:
        assert warc.read(ref.capture.warc_file, ref.capture.warc_offset).payload == BODY


def test_a_revisit_in_a_batch_run_again_points_at_the_committed_capture(
    db_url: str, tmp_path: Path
) -> None:
    """The same page twice in one batch, then a failing job: the batch is run again job by
    job, and the second capture (a revisit of the first) must point at the first one's row
    as committed, not at the id it had in the rolled-back attempt (PostgreSQL's sequences
    do not roll back, so that id is never used again)."""
    url = "http://127.0.0.1:8000/2026/11/30/twice/"
    warc = WarcStore(tmp_path / "warc")
    with Archive(db_url) as archive:
        writer = ArchiveWriter(archive, warc, batch_wait=0.5)
        try:
            first = writer.capture(_exchange(url))
            again = replace(_exchange(url), fetched_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
            second = writer.capture(again)
            bad = writer.submit(lambda _s: 1 / 0)
            with pytest.raises(ZeroDivisionError):
                bad.result(timeout=10)
            ref, revisit = first.result(timeout=10), second.result(timeout=10)
        finally:
            writer.close()
        assert revisit.is_revisit
        with archive.sessions() as s:
            rows = {r.id: r for r in s.scalars(select(CaptureRow))}
        assert sorted(rows) == sorted([ref.id, revisit.id])
        assert rows[revisit.id].revisit_of == ref.id
