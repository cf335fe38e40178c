"""Re-extraction over a real crawl: idempotent, option changes re-version, resumable after kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crawler.demo_site import make_sites, serve
from crawler.extraction import EXTRACTOR_ID
from crawler.reextract import reextract
from storage.db import Archive
from storage.models import Article, CaptureRow, Extraction, Version
from storage.rebuild import rebuild_articles
from tests.crawling import REPO, CrawlEnv, run_cli, write_config
from tests.factories import later
from tests.query_support import build, filler

OPTION = "prune_xpath=//p[1]"  # drops each page's first paragraph: every body changes
NEW_ID = f"{EXTRACTOR_ID}+{OPTION}"


@pytest.fixture
def crawled(db_url: str, tmp_path: Path) -> Iterator[CrawlEnv]:
    """Two crawl rounds of both demo sites (the second finds edits), by real processes."""
    ledger, courier = make_sites(categories=2, articles_per_category=6, page_size=6)
    sites = {"ledger": ledger, "courier": courier}
    with serve(ledger, courier) as server:
        config = write_config(tmp_path, db_url, server, sites)
        run_cli("crawl", "--full", config=config)
        server.advance()
        run_cli("crawl", "--full", config=config)
        yield CrawlEnv(tmp_path, db_url, config, server, sites)


def snapshot(db_url: str) -> dict[str, Any]:
    """Everything re-extraction may touch, in comparable form."""
    with Archive(db_url) as a, a.session() as s:
        return {
            "extractions": s.execute(
                select(Extraction.id, Extraction.extractor_id).order_by(Extraction.id)
            ).all(),
            "versions": s.execute(
                select(
                    Version.article_id, Version.n, Version.extraction_id, Version.content_hash
                ).order_by(Version.article_id, Version.n)
            ).all(),
            "articles": s.execute(
                select(Article.id, Article.current_version, Article.title, Article.text).order_by(
                    Article.id
                )
            ).all(),
        }


def article_captures(db_url: str) -> int:
    with Archive(db_url) as a, a.session() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(CaptureRow)
                .where(CaptureRow.page_kind == "article", CaptureRow.record_kind == "response")
            )
            or 0
        )


def count_new(db_url: str) -> int:
    with Archive(db_url) as a, a.session() as s:
        q = select(func.count()).select_from(Extraction).where(Extraction.extractor_id == NEW_ID)
        return s.scalar(q) or 0


def test_same_extractor_changes_nothing(crawled: CrawlEnv) -> None:
    before = snapshot(crawled.db_url)
    out = run_cli("reextract", "--workers", "2", config=crawled.config).stdout
    assert "captures processed: 0" in out
    assert f"({article_captures(crawled.db_url)} already up to date" in out
    assert snapshot(crawled.db_url) == before


def test_option_change_adds_rows_rebuilds_versions_and_reports(crawled: CrawlEnv) -> None:
    before = snapshot(crawled.db_url)
    n = article_captures(crawled.db_url)
    args = ["reextract", "--option", OPTION, "--format", "json"]
    dry = json.loads(run_cli(*args, "--dry-run", config=crawled.config).stdout)
    assert snapshot(crawled.db_url) == before  # a dry run writes nothing
    report = json.loads(run_cli(*args, config=crawled.config).stdout)
    assert report["extractor_id"] == NEW_ID
    assert report["captures_processed"] == dry["captures_processed"] == n
    assert report["fields_changed"]["body"] == dry["fields_changed"]["body"] == n
    assert report["fields_changed"]["title"] == 0
    assert report["versions_merged"] == {} and report["versions_split"] == {}
    assert count_new(crawled.db_url) == n  # new rows beside the old ones
    after = snapshot(crawled.db_url)
    assert len(after["extractions"]) == len(before["extractions"]) + n
    # Same version structure, now made from the new extractions, and search sees them.
    assert [v[:2] for v in after["versions"]] == [v[:2] for v in before["versions"]]
    with Archive(crawled.db_url) as a, a.session() as s:
        used = s.scalars(
            select(Extraction.extractor_id).join(Version, Version.extraction_id == Extraction.id)
        ).all()
        current = s.execute(
            select(Article.text, Extraction.text)
            .join(
                Version, (Version.article_id == Article.id) & (Version.n == Article.current_version)
            )
            .join(Extraction, Extraction.id == Version.extraction_id)
        ).all()
    assert set(used) == {NEW_ID}
    assert all(a == e for a, e in current)
    again = json.loads(run_cli(*args, config=crawled.config).stdout)
    assert again["captures_processed"] == 0 and again["articles_rebuilt"] == 0
    assert snapshot(crawled.db_url) == after


def test_killed_run_resumes_and_does_the_work_once(crawled: CrawlEnv) -> None:
    n = article_captures(crawled.db_url)
    cmd = [sys.executable, "-m", "crawler", "--config", str(crawled.config), "reextract"]
    cmd += ["--option", OPTION, "--workers", "1", "--batch-size", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            done, total = line.rsplit(" ", 2)[-2].split("/")
            if 0 < int(done) < int(total):
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    partial = count_new(crawled.db_url)
    assert 0 < partial < n
    out = run_cli("reextract", "--option", OPTION, "--format", "json", config=crawled.config)
    report = json.loads(out.stdout)
    assert report["captures_processed"] == n - partial
    assert count_new(crawled.db_url) == n
    with Archive(crawled.db_url) as a, a.session() as s:
        used = set(
            s.scalars(
                select(Extraction.extractor_id).join(
                    Version, Version.extraction_id == Extraction.id
                )
            )
        )
    assert used == {NEW_ID}


def test_versions_that_were_extraction_noise_merge(db_url: str, tmp_path: Path) -> None:
    """An old extractor saw a change (boilerplate) where the page text is the same: 2 -> 1."""
    b = build(db_url, tmp_path)
    story = filler(7, 200)
    url = "https://ledger.example/2024/05/01/flood/"
    b.add(url, "Flood", story, html_text=story)
    b.add(url, "Flood", story + "\n\nShare this: Facebook", html_text=story, at=later(2))
    b.warc.close()
    with Archive(db_url) as archive:
        report = reextract(archive, tmp_path / "warc", workers=1)
    assert report.processed == 2
    assert report.merged == {1: (2, 1)}
    with Archive(db_url) as a, a.session() as s:
        (version,) = s.scalars(select(Version)).all()
        assert (version.first_seen_at, version.last_seen_at) == (later(0), later(2))
        assert s.get(Article, 1).current_version == 1  # type: ignore[union-attr]


def test_articles_rebuilt_in_one_batch_keep_their_own_captures(db_url: str, tmp_path: Path) -> None:
    """Several articles share a batch (one query for all their captures): none mixes."""
    b = build(db_url, tmp_path)
    story, edit = filler(7, 200), filler(8, 200)
    flood, fire = "https://ledger.example/2024/05/01/flood/", "https://ledger.example/fire/"
    b.add(flood, "Flood", story, html_text=story)
    b.add(fire, "Fire", story, html_text=story)
    b.add(flood, "Flood", story + "\n\nShare this: Facebook", html_text=story, at=later(2))
    b.add(fire, "Fire", edit, html_text=edit, at=later(3))
    b.warc.close()
    with Archive(db_url) as archive:
        report = reextract(archive, tmp_path / "warc", workers=1)
    assert report.merged == {1: (2, 1)} and report.split == {}
    with Archive(db_url) as a, a.session() as s:
        rows = s.execute(
            select(Version.article_id, Version.n, CaptureRow.url, CaptureRow.fetched_at)
            .join(Extraction, Extraction.id == Version.extraction_id)
            .join(CaptureRow, CaptureRow.id == Extraction.capture_id)
            .order_by(Version.article_id, Version.n)
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, 1, flood, later(0)),
        (2, 1, fire, later(0)),
        (2, 2, fire, later(3)),
    ]


def test_a_rebuild_in_a_session_that_read_the_old_versions(db_url: str, tmp_path: Path) -> None:
    """The versions a session has read go with their rows: it then reads the rebuilt ones,
    which SQLite numbers as the deleted ones were."""
    b = build(db_url, tmp_path)
    url = "https://ledger.example/2024/05/01/flood/"
    b.add(url, "Flood", filler(7, 200))
    b.add(url, "Flood", filler(8, 200), at=later(2))
    b.warc.close()
    with Archive(db_url) as a, a.session() as s:
        old = s.scalars(select(Version).order_by(Version.n)).all()
        assert [v.n for v in old] == [1, 2]
        (rebuilt,) = rebuild_articles(s, [1], "test/1")
        assert (rebuilt.old_versions, rebuilt.new_versions) == (2, 2)
        read = [(v.id, v.n, v.last_seen_at) for v in s.scalars(select(Version).order_by(Version.n))]
        stored = s.execute(select(Version.id, Version.n, Version.last_seen_at).order_by(Version.n))
        assert read == [tuple(row) for row in stored]
