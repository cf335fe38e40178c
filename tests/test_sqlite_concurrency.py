"""Two real processes writing one SQLite archive at once never hit "database is locked"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from storage.db import Archive
from storage.models import Article, Version

WRITER = r"""
import sys, zlib
from storage.ingest import record
from storage.db import Archive
from tests.factories import body, capture, extracted, later
url, worker, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with Archive(url) as archive:
    for i in range(n):
        with archive.session() as s:
            # Both workers record the same shared articles and some of their own.
            key = f"shared-{(i // 2) % 20}" if i % 2 else f"{worker}-{i}"
            record(s, capture(f"https://news.example.com/2026/11/01/{key}/", at=later(i)),
                   extracted(key, body(zlib.crc32(key.encode()) % 1000)))
print("ok", worker)
"""


def test_two_processes_write_one_sqlite_archive(sqlite_url: str, tmp_path: Path) -> None:
    Archive(sqlite_url).close()  # migrate first, as `db upgrade` or the first crawl would
    repo = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, sqlite_url, w, "150"],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in ("a", "b")
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "database is locked" not in err
    with Archive(sqlite_url) as archive, archive.session() as s:
        articles = s.scalar(select(func.count()).select_from(Article))
        versions = s.scalar(select(func.count()).select_from(Version))
    # 75 own articles per worker + 20 shared ones, each with exactly one version.
    assert articles == 75 * 2 + 20
    assert versions == articles
