"""`newsarchive demo`: serves the demo sites, archives a few rounds, prints what it archived."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from storage.db import Archive
from storage.models import Article, Version
from tests.crawling import run_cli


def test_demo_archives_rounds_and_prints_articles_versions_diff_duplicates(tmp_path: Path) -> None:
    out = run_cli("demo", "--dir", str(tmp_path / "demo"), "--rounds", "2", timeout=300).stdout
    with (
        Archive(f"sqlite:///{tmp_path / 'demo' / 'archive.db'}") as archive,
        archive.session() as s,
    ):
        articles = s.scalar(select(func.count()).select_from(Article)) or 0
        versions = s.scalar(select(func.count()).select_from(Version)) or 0
    assert articles > 50 and versions > articles, "round 2 edits made second versions"
    assert f"== archive: {articles} articles, {versions} versions ==" in out
    assert "== round 2: crawl ==" in out
    assert "diff of article" in out and "{+" in out
    assert "near-duplicate clusters: 1" in out
    assert (tmp_path / "demo" / "warc").is_dir()
