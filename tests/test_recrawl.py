"""An incremental re-crawl does not download again what the archive has.

From the demo server's request log: an unchanged re-crawl asks for category pages only
(nothing is due for a revisit); an archived article comes back only when its revisit is
due, and then an edit becomes version 2; `--full` asks for every listed article again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from crawler.demo_site import make_sites, serve
from storage.db import Archive
from storage.models import UrlState
from tests.crawling import CrawlEnv, run_cli, write_config
from tests.fault_crawling import articles, last_run


@pytest.fixture
def env(tmp_path: Path) -> Iterator[CrawlEnv]:
    """The Ledger (2 categories x 8 articles, 4 per page), archived once."""
    ledger, _ = make_sites(categories=2, articles_per_category=8, page_size=4, edits_per_round=3)
    with serve(ledger) as server:
        db_url = f"sqlite:///{tmp_path / 'archive.db'}"
        config = write_config(tmp_path, db_url, server, {"ledger": ledger}, max_pages=2)
        run_cli("crawl", "ledger", config=config)
        server.clear_log()
        yield CrawlEnv(tmp_path, db_url, config, server, {"ledger": ledger})


def _paths(env: CrawlEnv) -> list[str]:
    return [r.path.split("?")[0] for r in env.server.requests("ledger")]


def _category_paths(env: CrawlEnv) -> set[str]:
    ledger = env.sites["ledger"]
    return {
        "/" + ledger.category_url(c, n).split("/", 3)[3] for c in ledger.categories for n in (1, 2)
    }


def test_unchanged_recrawl_requests_only_category_pages(env: CrawlEnv) -> None:
    archived = articles(env.db_url)
    assert archived
    # As with a server that sends no validators: the category pages come back whole (200).
    with Archive(env.db_url) as archive, archive.session() as s:
        s.execute(
            update(UrlState)
            .where(UrlState.page_kind == "category")
            .values(etag=None, last_modified=None)
        )
    run_cli("crawl", "ledger", config=env.config)
    paths = _paths(env)
    assert paths and set(paths) <= _category_paths(env) | {"/robots.txt"}, paths
    run = last_run(env.db_url)
    assert run.stats is not None and run.stats["articles"]["new"] == 0
    # Page 1 of each category listed only archived articles: pagination stopped there.
    ledger = env.sites["ledger"]
    assert run.stats["known_not_due"] == sum(
        len(ledger.listing(c, 1).articles) for c in ledger.categories
    )
    assert articles(env.db_url).keys() == archived.keys()


def test_a_due_revisit_is_fetched_and_catches_the_edit(env: CrawlEnv) -> None:
    archived = articles(env.db_url)
    env.server.advance()  # the site edits some archived articles
    edited = {a.url for a in env.sites["ledger"].edited_in_round(1)} & set(archived)
    assert edited, "the site edited none of the archived articles: pick another seed"
    due = sorted(edited)[:1]
    with Archive(env.db_url) as archive, archive.session() as s:
        s.execute(
            update(UrlState)
            .where(UrlState.url.in_(due))
            .values(next_check_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    run_cli("crawl", "ledger", config=env.config)
    article_paths = {"/" + u.split("/", 3)[3] for u in archived}
    fetched = set(_paths(env)) & article_paths
    assert fetched == {"/" + u.split("/", 3)[3] for u in due}
    # The changed category pages listed archived articles again: left for their revisits.
    stats = last_run(env.db_url).stats
    assert stats is not None and stats["known_not_due"] > 0
    after = articles(env.db_url)
    assert after[due[0]].current_version == 2
    assert all(after[u].current_version == 1 for u in set(archived) - set(due))


def test_full_recrawl_asks_for_every_listed_article_again(env: CrawlEnv) -> None:
    archived = articles(env.db_url)
    run_cli("crawl", "ledger", "--full", config=env.config)
    article_paths = {"/" + u.split("/", 3)[3] for u in archived}
    assert set(_paths(env)) & article_paths == article_paths
