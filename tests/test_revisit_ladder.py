"""The revisit ladder over repeated crawls: category fetches don't use it up; 404 ends it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.demo_site.pages import Page
from storage.db import Archive
from storage.models import Article, UrlState, Version
from tests.crawling import CrawlEnv, ledger_env, run_cli


def _env(tmp_path: Path, ladder: str) -> Iterator[CrawlEnv]:
    with ledger_env(
        tmp_path, categories=1, per_category=6, page_size=6, max_pages=1,
        extra_site=f"revisit = {ladder}",
    ) as env:  # fmt: skip
        yield env


@pytest.fixture
def hour_ladder(tmp_path: Path) -> Iterator[CrawlEnv]:
    yield from _env(tmp_path, '["1h", "1d"]')


@pytest.fixture
def second_ladder(tmp_path: Path) -> Iterator[CrawlEnv]:
    yield from _env(tmp_path, '["1s", "1d"]')


def _states(env: CrawlEnv) -> dict[str, UrlState]:
    with Archive(env.db_url) as archive, archive.session() as s:
        return {
            u.url: u for u in s.scalars(select(UrlState).where(UrlState.page_kind == "article"))
        }


def test_category_crawls_do_not_use_up_the_ladder(hour_ladder: CrawlEnv) -> None:
    run_cli("crawl", config=hour_ladder.config)
    before = _states(hour_ladder)
    for _ in range(2):  # every run re-fetches the listed articles
        run_cli("crawl", "--full", config=hour_ladder.config)
    after = _states(hour_ladder)
    assert before and set(before) == set(after)
    for url, state in after.items():
        assert state.revisit_step == 0, url
        assert state.next_check_at == before[url].next_check_at, url


def test_a_deleted_article_is_marked_gone_and_no_longer_revisited(second_ladder: CrawlEnv) -> None:
    env = second_ladder
    run_cli("crawl", config=env.config)
    victim = env.sites["ledger"].articles()[0]
    env.server.add_route(victim.path, lambda req: Page(404, b"<html><body>Not found</body></html>"))
    time.sleep(1.2)  # the first rung of the ladder is due
    run_cli("crawl", "--only-revisits", config=env.config)
    with Archive(env.db_url) as archive, archive.session() as s:
        article = s.scalars(select(Article).where(Article.canonical_url == victim.url)).one()
        versions = s.scalars(select(Version).where(Version.article_id == article.id)).all()
    assert article.status == "gone"
    assert len(versions) == 1 and article.text, "what was archived stays"
    assert _states(env)[victim.url].next_check_at is None
    env.server.clear_log()
    run_cli("crawl", "--only-revisits", config=env.config)
    assert victim.path not in [r.path for r in env.server.requests()]
