"""Crawl the demo sites over real HTTP with real `newsarchive crawl` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler.demo_site import make_sites, serve
from crawler.demo_site.pages import Page
from storage.db import Archive
from storage.models import Article, ArticleUrl, CaptureRow, CrawlRun, Version
from storage.warc import WarcStore, payload_digest
from tests import configs
from tests.crawling import CrawlEnv, run_cli, write_config

MAX_PAGES = 2


@pytest.fixture
def env(tmp_path: Path) -> Iterator[CrawlEnv]:
    """Both demo sites (2 categories x 10 articles, 4 per page: 3 pages) and a config."""
    ledger, courier = make_sites(categories=2, articles_per_category=10, page_size=4)
    sites = {"ledger": ledger, "courier": courier}
    with serve(ledger, courier) as server:
        db_url = f"sqlite:///{tmp_path / 'archive.db'}"
        config = write_config(tmp_path, db_url, server, sites, max_pages=MAX_PAGES)
        yield CrawlEnv(tmp_path, db_url, config, server, sites)


def _expected(env: CrawlEnv) -> set[str]:
    return {u for site in env.sites.values() for u in site.all_article_urls(MAX_PAGES)}


def _articles(env: CrawlEnv) -> dict[str, Article]:
    with Archive(env.db_url) as archive, archive.session() as s:
        return {a.canonical_url: a for a in s.scalars(select(Article))}


def test_first_crawl_archives_every_listed_article_exactly_once(env: CrawlEnv) -> None:
    out = run_cli("crawl", config=env.config).stdout
    articles = _articles(env)
    assert set(articles) == _expected(env)
    assert all(a.current_version == 1 for a in articles.values())
    assert "ledger: run" in out and "courier: run" in out and " ok:" in out
    # Articles beyond max_pages (page 3) were never requested.
    deeper = {
        a.path for s in env.sites.values() for c in s.categories for a in s.listing(c, 3).articles
    }
    fetched = {r.path.split("?")[0] for r in env.server.requests()}
    assert not deeper & fetched
    with Archive(env.db_url) as archive, archive.session() as s:
        runs = s.scalars(select(CrawlRun)).all()
    assert {r.site for r in runs} == {"ledger", "courier"}
    assert all(r.status == "ok" and r.stats and r.stats["articles"]["new"] > 0 for r in runs)


def test_articles_have_text_and_metadata_from_the_page(env: CrawlEnv) -> None:
    run_cli("crawl", "ledger", config=env.config)
    articles = _articles(env)
    truth = {a.url: a for a in env.sites["ledger"].articles()}
    for url, art in articles.items():
        page = truth[url]
        assert art.title == page.title
        assert art.text and page.paragraphs[0][:60] in art.text
        assert art.authors == list(page.authors)
        assert art.published_at == page.published


def test_tracking_param_links_make_no_extra_articles(env: CrawlEnv) -> None:
    run_cli("crawl", config=env.config)
    with Archive(env.db_url) as archive, archive.session() as s:
        canon = s.scalars(select(Article.canonical_url)).all()
    assert len(canon) == len(_expected(env))
    assert not [u for u in canon if "utm_" in u or "fbclid" in u or "#" in u]


def test_every_capture_row_reads_back_from_warc(env: CrawlEnv) -> None:
    run_cli("crawl", "courier", config=env.config)
    store = WarcStore(env.warc_dir)
    with Archive(env.db_url) as archive, archive.session() as s:
        captures = s.scalars(select(CaptureRow)).all()
    assert captures
    for cap in captures:
        rec = store.read(cap.warc_file, cap.warc_offset)
        assert rec.status == cap.status
        assert rec.url == (cap.final_url or cap.url)
        if cap.record_kind == "response":
            assert payload_digest(rec.payload) == cap.payload_digest
    kinds = {c.page_kind for c in captures}
    assert {"category", "article"} <= kinds


def test_round_two_adds_new_articles_and_versions_edits_only(env: CrawlEnv) -> None:
    run_cli("crawl", "--full", config=env.config)
    before = _articles(env)
    env.server.advance()
    out = run_cli("crawl", "--full", config=env.config).stdout
    after = _articles(env)
    expected = _expected(env)
    new = {a.url for s in env.sites.values() for a in s.new_in_round(1)} & expected
    edited = {a.url for s in env.sites.values() for a in s.edited_in_round(1)} & expected
    assert set(after) == expected | set(before)
    assert new and new <= set(after) and not new & set(before)
    versioned = {u for u, a in after.items() if a.current_version > 1}
    assert versioned == edited & set(before), "a version 2 for each edited article, no other"
    for url in versioned:
        assert after[url].current_version == 2
    assert "changed" in out


def test_syndicated_copy_shares_a_cluster(env: CrawlEnv) -> None:
    env.server.advance()  # the Courier reprints a Ledger story from round 1
    run_cli("crawl", "--full", config=env.config)
    articles = _articles(env)
    pairs = env.sites["courier"].syndicated_pairs()
    assert pairs
    for original, copy in pairs:
        if original in articles and copy in articles:
            assert articles[original].cluster_id is not None
            assert articles[original].cluster_id == articles[copy].cluster_id
            break
    else:
        pytest.fail(f"neither syndicated pair was crawled: {pairs}")


def test_incremental_crawl_stops_at_a_page_with_nothing_new(env: CrawlEnv) -> None:
    run_cli("crawl", "ledger", "--max-pages", "3", config=env.config)
    env.server.clear_log()
    out = run_cli("crawl", "ledger", "--max-pages", "3", config=env.config).stdout
    ledger = env.sites["ledger"]
    paths = [r.path for r in env.server.requests("ledger")]
    for category in ledger.categories:
        page1 = ledger.category_url(category, 1).split("/", 3)[3]
        page2 = ledger.category_url(category, 2).split("/", 3)[3]
        assert "/" + page1 in paths
        assert "/" + page2 not in paths, "nothing new on page 1: page 2 is not fetched"
    with Archive(env.db_url) as archive, archive.session() as s:
        last = s.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        versions = s.scalar(select(func.count()).select_from(Version))
        n_articles = s.scalar(select(func.count()).select_from(Article))
    assert last is not None and last.stats is not None
    assert last.stats["incremental_stops"] == len(ledger.categories)
    assert last.stats["articles"]["new"] == 0
    assert versions == n_articles
    assert "0 new" in out


def test_unchanged_articles_are_fetched_conditionally(env: CrawlEnv) -> None:
    run_cli("crawl", "ledger", config=env.config)
    env.server.clear_log()
    run_cli("crawl", "ledger", "--full", config=env.config)
    article_paths = {a.path for a in env.sites["ledger"].articles()}
    conditional = [r for r in env.server.requests("ledger") if r.path in article_paths]
    assert conditional
    assert all(
        "If-None-Match" in r.headers or "if-none-match" in {k.lower() for k in r.headers}
        for r in conditional
    )
    with Archive(env.db_url) as archive, archive.session() as s:
        revisits = s.scalar(
            select(func.count())
            .select_from(CaptureRow)
            .where(CaptureRow.record_kind == "revisit", CaptureRow.page_kind == "article")
        )
    # Every unchanged article came back as 304: a WARC revisit record, no new version.
    assert revisits == len(conditional)


def test_variant_urls_are_recorded(env: CrawlEnv) -> None:
    env.server.advance()  # round 1 listings carry some tracking parameters
    run_cli("crawl", "--full", config=env.config)
    with Archive(env.db_url) as archive, archive.session() as s:
        n = s.scalar(select(func.count()).select_from(ArticleUrl))
        arts = s.scalar(select(func.count()).select_from(Article))
    assert n is not None and arts is not None and n >= arts


def test_redirects_are_archived_too(env: CrawlEnv) -> None:
    ledger = env.sites["ledger"]
    target = ledger.category_url(ledger.categories[0])
    env.server.add_route(
        "/old-section/",
        lambda req: Page(301, b"", headers=(("Location", target),)),
    )
    old = env.server.url["ledger"] + "/old-section/"
    document = configs.read_config(env.config)
    site = configs.site_of(document, "ledger")
    site["start_urls"] = [old if u == target else u for u in site["start_urls"]]
    configs.rewrite(env.config, document)
    run_cli("crawl", "ledger", config=env.config)
    store = WarcStore(env.warc_dir)
    with Archive(env.db_url) as archive, archive.session() as s:
        moved = s.scalars(select(CaptureRow).where(CaptureRow.status == 301)).one()
        landed = s.scalars(
            select(CaptureRow).where(CaptureRow.url == old, CaptureRow.status == 200)
        ).one()
    assert store.read(moved.warc_file, moved.warc_offset).status == 301
    assert landed.final_url == target and landed.page_kind == "category"
    assert set(_articles(env)) >= {
        a.url for a in ledger.articles_in_listing(ledger.categories[0], 2)
    }
