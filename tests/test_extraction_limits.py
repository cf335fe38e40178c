"""A page whose extraction hangs is recorded once as an error, never retried run after run."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.db import Archive
from storage.models import Article, CaptureRow, Extraction
from tests.crawling import ledger_env, run_cli


def test_extraction_over_its_time_limit_is_recorded_as_an_error(tmp_path: Path) -> None:
    # No page can be extracted in a millisecond: every extraction times out.
    with ledger_env(
        tmp_path, categories=1, per_category=3, page_size=3, max_pages=1,
        extra_archive="extraction_timeout = 0.001",
    ) as env:  # fmt: skip
        db_url, config, server = env.db_url, env.config, env.server
        out = run_cli("crawl", config=config, timeout=240).stdout
        with Archive(db_url) as archive, archive.session() as s:
            errors = s.scalars(select(Extraction.error)).all()
            captures = s.scalars(select(CaptureRow).where(CaptureRow.page_kind == "article")).all()
            articles = s.scalars(select(Article)).all()
        assert len(captures) == 3 and not articles
        assert len(errors) == 3 and all(e and "timed out" in e for e in errors)
        assert "page_error=3" in out
        server.clear_log()
        again = run_cli("crawl", "--full", config=config, timeout=240).stdout
        assert "recovered" not in again
        with Archive(db_url) as archive, archive.session() as s:
            assert len(s.scalars(select(Extraction)).all()) == 6, "fetched again, not recovered"
