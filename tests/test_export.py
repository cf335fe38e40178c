"""Exports round-trip: jsonl/csv rows = articles, WARC = the stored records, CDXJ for pywb."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage import export
from storage.db import Archive
from storage.query import Filters
from tests.factories import later
from tests.query_support import Built, build, filler


@pytest.fixture
def built(db_url: str, tmp_path: Path) -> Built:
    b = build(db_url, tmp_path)
    b.add("https://ledger.example/a/", "First", filler(1), published=later(0))
    b.add("https://ledger.example/a/", "First, corrected", filler(2), at=later(3))
    b.add(
        "https://courier.example/b.html", "Second", filler(3), site="courier", published=later(50)
    )
    b.add("https://ledger.example/c/", "Third «quoted»", filler(4), published=later(100))
    b.warc.close()
    return b


def run(fn: object, url: str, *args: object, **kw: object) -> tuple[int, str]:
    out = io.StringIO()
    with Archive(url, readonly=True) as a, a.session() as s:
        n = fn(s, out, *args, **kw)  # type: ignore[operator]
    return n, out.getvalue()


def test_jsonl_has_one_line_per_article(built: Built) -> None:
    n, text = run(export.export_jsonl, built.url)
    rows = [json.loads(line) for line in text.splitlines()]
    assert n == len(rows) == 3
    assert [r["title"] for r in rows] == ["First, corrected", "Second", "Third «quoted»"]
    assert rows[0]["versions"] == 2


def test_jsonl_all_versions_and_filters(built: Built) -> None:
    _, every = run(export.export_jsonl, built.url, all_versions=True)
    assert [json.loads(x)["title"] for x in every.splitlines()][:2] == ["First", "First, corrected"]
    _, ledger = run(export.export_jsonl, built.url, Filters(site="ledger", since=later(1)))
    assert [json.loads(x)["id"] for x in ledger.splitlines()] == [3]


def test_csv_round_trips_through_a_csv_reader(built: Built) -> None:
    n, text = run(export.export_csv, built.url)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert n == len(rows) == 3
    assert rows[2]["title"] == "Third «quoted»" and rows[0]["authors"] == "Ada Lovelace"
    assert rows[1]["text"].startswith(filler(3)[:40])


def test_warc_export_holds_the_stored_payloads_and_passes_warcio_check(
    built: Built, tmp_path: Path
) -> None:
    target = tmp_path / "out.warc.gz"
    with Archive(built.url, readonly=True) as a, a.session() as s, open(target, "wb") as fh:
        n = export.export_warc(s, built.warc, fh)
    assert n == 4
    types, payloads = [], []
    with open(target, "rb") as fh:
        for rec in ArchiveIterator(fh):
            types.append(rec.rec_type)
            if rec.rec_type == "response":
                payloads.append(rec.content_stream().read())
    assert types == ["warcinfo"] + ["response", "request"] * 4
    assert payloads == [built.payloads[i] for i in sorted(built.payloads)]
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout


def test_warc_export_by_site(built: Built, tmp_path: Path) -> None:
    with Archive(built.url, readonly=True) as a, a.session() as s:
        out = io.BytesIO()
        n = export.export_warc(s, built.warc, out, export.CaptureFilters(site="courier"))
    uris = [
        r.rec_headers.get_header("WARC-Target-URI")
        for r in ArchiveIterator(io.BytesIO(out.getvalue()))
        if r.rec_type == "response"
    ]
    assert n == 1 and uris == ["https://courier.example/b.html"]


def test_cdxj_is_sorted_and_points_at_the_records(built: Built) -> None:
    n, text = run(export.export_cdxj, built.url)
    lines = text.splitlines()
    assert n == len(lines) == 4
    assert lines == sorted(lines)
    key, stamp, payload = lines[0].split(" ", 2)
    entry = json.loads(payload)
    assert key == "example,courier)/b.html" and len(stamp) == 14
    assert entry["mime"] == "text/html" and entry["status"] == "200"
    record = built.warc.read(entry["filename"], int(entry["offset"]))
    assert record.url == entry["url"]
    raw = built.warc.read_raw(entry["filename"], int(entry["offset"]), int(entry["length"]))
    assert len(raw) == int(entry["length"])
    assert record.payload_digest == "sha1:" + entry["digest"]
