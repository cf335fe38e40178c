"""A crawl through every fault the demo server can throw: it finishes, records, changes nothing.

One module-wide scenario (each crawl is a real process and takes seconds): the Ledger is
archived, then crawled again with the `/faults/` category added on the same host, so each
fault happens next to pages already in the archive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.demo_site import make_sites, serve
from storage.models import CrawlRun
from storage.warc import WarcStore
from tests.crawling import run_cli, write_config
from tests.fault_crawling import (
    add_start_url,
    articles,
    captures,
    error_counts,
    gaps,
    last_run,
    snapshot,
    summary_errors,
    url_states,
)
from tests.fault_site import Faults, add_fault_routes, binary_body

DOWNLOAD_TIMEOUT = 1.0
MAX_RESPONSE_MB = 2
# Faults that must never become an article.
NO_ARTICLE = (
    "unavailable",
    "slow",
    "dropped",
    "gzip-bomb",
    "brotli-bomb",
    "huge",
    "huge-stream",
    "binary",
    "redirect-loop",
    "private",
)


@dataclass
class FaultCrawl:
    """The archive before and after a crawl through the faults."""

    db_url: str
    warc_dir: Path
    faults: Faults
    before: dict[str, Any]
    after: dict[str, Any]
    stdout: str
    run: CrawlRun


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultCrawl]:
    """Archive the Ledger, then crawl it again with the fault category as a start URL."""
    tmp = tmp_path_factory.mktemp("faults")
    ledger, _ = make_sites(categories=2, articles_per_category=4, page_size=4)
    with serve(ledger) as server:
        faults = add_fault_routes(server, ledger, retry_after=2, slow_seconds=3.0)
        db_url = f"sqlite:///{tmp / 'archive.db'}"
        config = write_config(
            tmp,
            db_url,
            server,
            {"ledger": ledger},
            max_pages=1,
            extra_archive=(
                f"download_timeout = {DOWNLOAD_TIMEOUT}\nmax_response_mb = {MAX_RESPONSE_MB}"
            ),
        )
        run_cli("crawl", config=config, timeout=120)
        before = snapshot(db_url)
        assert len(before) == 8, "the Ledger's 8 listed articles are archived first"
        add_start_url(config, "ledger", faults.listing_url)
        server.clear_log()
        # Exit status 0 (run_cli checks): faults are the sites' problem, not the crawl's.
        out = run_cli("crawl", config=config, timeout=120).stdout
        yield FaultCrawl(
            db_url, tmp / "warc", faults, before, snapshot(db_url), out, last_run(db_url)
        )


def test_the_crawl_through_faults_finishes_ok(crawl: FaultCrawl) -> None:
    assert crawl.run.status == "ok"
    assert crawl.run.finished_at is not None
    assert "ledger: run" in crawl.stdout and " ok:" in crawl.stdout


@pytest.mark.parametrize(
    ("kind", "at_least"),
    [
        ("timeout", 1),  # the slow page
        ("connection_lost", 1),  # the dropped connection
        ("too_large", 4),  # gzip bomb, brotli bomb, 50 MiB page with and without length
        ("redirect_loop", 1),
        ("http_503", 1),
        ("robots", 1),  # the /private/ link
    ],
)
def test_each_fault_is_counted_by_kind_in_stats_and_summary(
    crawl: FaultCrawl, kind: str, at_least: int
) -> None:
    assert error_counts(crawl.run).get(kind, 0) >= at_least, error_counts(crawl.run)
    assert summary_errors(crawl.stdout).get(kind, 0) >= at_least, crawl.stdout


def test_nothing_already_archived_changes(crawl: FaultCrawl) -> None:
    assert {url: crawl.after[url] for url in crawl.before} == crawl.before


def test_fault_pages_make_no_articles(crawl: FaultCrawl) -> None:
    archived = set(articles(crawl.db_url))
    assert not {crawl.faults.url(name) for name in NO_ARTICLE} & archived


def test_pages_behind_429_are_archived_after_the_pause(crawl: FaultCrawl) -> None:
    archived = articles(crawl.db_url)
    for name in ("retry-seconds", "retry-date"):
        url = crawl.faults.url(name)
        assert url in archived, f"{name}: not archived after its 429"
        assert archived[url].title == crawl.faults.article(name).title
        assert len(crawl.faults.hits(name)) == 2, "one 429, then one successful retry"
    assert crawl.faults.url("control") in archived


def test_503_is_retried_then_recorded_in_url_state(crawl: FaultCrawl) -> None:
    # How the waits grow is measured in test_politeness, on a host with no 429 pauses.
    hits = crawl.faults.hits("unavailable")
    assert 2 <= len(hits) <= 4, f"retried, at most 3 times: {len(hits)} hits"
    assert all(w > 0.1 for w in gaps(hits)), f"a retry without back-off: {gaps(hits)}"
    state = url_states(crawl.db_url).get(crawl.faults.url("unavailable"))
    assert state is not None, "no url_state row for the failing URL"
    assert state.consecutive_errors >= 1
    assert state.last_status == 503


def test_binary_served_as_html_is_captured_not_extracted(crawl: FaultCrawl) -> None:
    url = crawl.faults.url("binary")
    rows = [c for c in captures(crawl.db_url) if c.url == url]
    assert rows, "the binary page was not captured"
    cap = rows[-1]
    assert cap.status == 200 and (cap.content_type or "").startswith("text/html")
    record = WarcStore(crawl.warc_dir).read(cap.warc_file, cap.warc_offset)
    assert record.payload == binary_body()
    assert url not in articles(crawl.db_url)


def test_wrong_declared_charset_is_decoded_right(crawl: FaultCrawl) -> None:
    article = articles(crawl.db_url).get(crawl.faults.url("charset"))
    assert article is not None and article.text is not None
    first = crawl.faults.article("charset").paragraphs[0]
    assert first in article.text, f"expected {first!r} in {article.text[:300]!r}"


def test_robots_disallowed_page_is_never_requested(crawl: FaultCrawl) -> None:
    assert crawl.faults.hits("private") == []
    assert any(r.path == "/robots.txt" for r in crawl.faults.server.requests("ledger"))


def test_oversized_bodies_are_cut_off_not_downloaded(crawl: FaultCrawl) -> None:
    for name in ("huge", "huge-stream"):
        assert crawl.faults.hits(name), f"{name} was never requested"
        assert crawl.faults.completed.get(name, 0) == 0, f"{name}: all 50 MiB were read"
    too_big = MAX_RESPONSE_MB * 1024 * 1024
    store = WarcStore(crawl.warc_dir)
    for cap in captures(crawl.db_url):
        if cap.record_kind == "response":
            assert len(store.read(cap.warc_file, cap.warc_offset).payload) <= too_big


def test_every_capture_of_the_fault_crawl_reads_back(crawl: FaultCrawl) -> None:
    store = WarcStore(crawl.warc_dir)
    rows = captures(crawl.db_url)
    assert rows
    for cap in rows:
        record = store.read(cap.warc_file, cap.warc_offset)
        assert record.status == cap.status
