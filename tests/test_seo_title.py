"""seo_title: stored beside the headline, searchable on both backends, in show/search/export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import text

from storage import query
from storage.db import Archive, alembic_config, make_engine, upgrade
from storage.export import export_csv
from tests.configs import write_config
from tests.crawling import run_cli
from tests.query_support import build, filler

URL = "https://ledger.example/2024/05/01/flood/"


def test_both_titles_are_searchable_and_in_every_output(db_url: str, tmp_path: Path) -> None:
    b = build(db_url, tmp_path)
    b.add(
        URL, "Flood defence approved", "The wall rises.\n\n" + filler(1), seo_title="Sea wall plan"
    )
    b.warc.close()
    with Archive(db_url) as archive, archive.session() as s:
        by_headline = query.search(s, "defence approved")
        by_seo_title = query.search(s, '"sea wall plan"')
        assert [h.seo_title for h in by_seo_title] == ["Sea wall plan"]
        assert [h.article_id for h in by_headline] == [h.article_id for h in by_seo_title]
        shown = query.get_article(s, URL)
        assert (shown["title"], shown["seo_title"]) == ("Flood defence approved", "Sea wall plan")
        out = io.StringIO()
        export_csv(s, out)
    assert next(csv.DictReader(io.StringIO(out.getvalue())))["seo_title"] == "Sea wall plan"


def test_cli_search_and_show_json_carry_seo_title(sqlite_url: str, tmp_path: Path) -> None:
    b = build(sqlite_url, tmp_path)
    b.add(
        URL, "Flood defence approved", "The wall rises.\n\n" + filler(1), seo_title="Sea wall plan"
    )
    b.warc.close()
    config = write_config(tmp_path, {"database_url": sqlite_url})
    hits = json.loads(run_cli("search", "sea wall", "--format", "json", config=config).stdout)
    assert hits[0]["seo_title"] == "Sea wall plan"
    shown = json.loads(run_cli("show", URL, "--format", "json", config=config).stdout)
    assert shown["seo_title"] == "Sea wall plan"
    assert "seo_title: Sea wall plan" in run_cli("show", URL, config=config).stdout


def test_migration_keeps_articles_archived_before_it_searchable(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        if engine.dialect.name == "sqlite":
            upgrade(engine, "0001")
        else:  # the session's PostgreSQL database is at head already
            command.downgrade(alembic_config(engine), "0001")
        now = datetime(2024, 5, 1, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO articles (site, canonical_url, first_seen_at, last_seen_at,"
                    " last_changed_at, current_version, status, title, text)"
                    " VALUES ('ledger', :url, :t, :t, :t, 1, 'ok', 'Old flood story',"
                    " 'The harbour wall rises.')"
                ),
                {"url": URL, "t": now},
            )
        upgrade(engine)
        with Archive(db_url) as archive:
            with archive.session() as s:
                assert [h.title for h in query.search(s, "harbour wall")] == ["Old flood story"]
                s.execute(text("UPDATE articles SET seo_title = 'Tide barrier'"))
            with archive.session() as s:
                assert [h.title for h in query.search(s, "tide barrier")] == ["Old flood story"]
    finally:
        upgrade(engine)
        engine.dispose()
