"""Politeness, proved by the demo server's own request log: robots.txt, Crawl-delay, Retry-After.

Each scenario is one real `newsarchive crawl` process against a small site on loopback.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest

from crawler.demo_site import DemoServer, LoggedRequest, make_sites, serve
from storage.models import CrawlRun
from tests.crawling import run_cli, write_config
from tests.fault_crawling import (
    add_start_url,
    articles,
    edit_config,
    error_counts,
    gaps,
    last_run,
    summary_errors,
    url_states,
)
from tests.fault_site import Faults, add_fault_routes

CRAWL_DELAY = 1.0
RETRY_AFTER = 2
# A request the crawler sent before the 429 reached it is logged a few ms after the 429:
# that is in flight, not a breach. Anything later than this must wait out the pause.
IN_FLIGHT_GRACE = 0.1


@dataclass
class Crawled:
    """One crawl of a site with faults: the server's log, the archive, the CLI output."""

    server: DemoServer
    faults: Faults
    db_url: str
    stdout: str
    run: CrawlRun
    elapsed: float

    def log(self) -> list[LoggedRequest]:
        return self.server.requests(self.faults.site.key)


def _crawl(
    tmp: Path,
    faults: tuple[str, ...],
    *,
    categories: int,
    articles_per_category: int,
    archive: dict[str, str] | None = None,
    site: dict[str, str] | None = None,
    crawl_delay: float | None = None,
) -> Iterator[Crawled]:
    ledger, _ = make_sites(
        categories=categories, articles_per_category=articles_per_category, page_size=10
    )
    with serve(ledger) as server:
        installed = add_fault_routes(
            server, ledger, faults, retry_after=RETRY_AFTER, crawl_delay=crawl_delay
        )
        db_url = f"sqlite:///{tmp / 'archive.db'}"
        config = write_config(tmp, db_url, server, {"ledger": ledger}, max_pages=1)
        add_start_url(config, "ledger", installed.listing_url)
        if archive:
            edit_config(config, **archive)
        if site:
            edit_config(config, "ledger", **site)
        started = time.monotonic()
        out = run_cli("crawl", config=config, timeout=120).stdout
        elapsed = time.monotonic() - started
        yield Crawled(server, installed, db_url, out, last_run(db_url), elapsed)


@pytest.fixture(scope="module")
def robots_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """robots.txt: Disallow /private/, Crawl-delay 1; AutoThrottle on, as by default."""
    yield from _crawl(
        tmp_path_factory.mktemp("robots"),
        ("control", "private"),
        categories=1,
        articles_per_category=3,
        archive={"autothrottle": "true"},
        crawl_delay=CRAWL_DELAY,
    )


@pytest.fixture(scope="module")
def retry_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """Two 429s (Retry-After in seconds and as an HTTP date) among ordinary pages."""
    yield from _crawl(
        tmp_path_factory.mktemp("retry"),
        ("control", "retry-seconds", "retry-date"),
        categories=2,
        articles_per_category=6,
    )


@pytest.fixture(scope="module")
def long_retry_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """A 429 asking for an hour, with max_retry_after = 5 s; one request at a time."""
    yield from _crawl(
        tmp_path_factory.mktemp("long-retry"),
        ("retry-long", "control"),
        categories=1,
        articles_per_category=6,
        archive={"max_retry_after": "5"},
        site={"concurrency": "1"},
    )


@pytest.fixture(scope="module")
def backoff_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """A page that always answers 503 without Retry-After, among ordinary pages."""
    yield from _crawl(
        tmp_path_factory.mktemp("backoff"),
        ("control", "unavailable"),
        categories=1,
        articles_per_category=3,
    )


def test_robots_disallowed_path_is_never_requested(robots_crawl: Crawled) -> None:
    paths = [r.path for r in robots_crawl.log()]
    assert "/robots.txt" in paths
    assert not [p for p in paths if p.startswith("/private/")]
    assert robots_crawl.faults.url("control") in articles(robots_crawl.db_url)


def test_robots_refusal_is_counted_and_shown(robots_crawl: Crawled) -> None:
    assert error_counts(robots_crawl.run).get("robots", 0) >= 1
    assert summary_errors(robots_crawl.stdout).get("robots", 0) >= 1
    assert robots_crawl.run.status == "ok"


def test_crawl_delay_spaces_requests_even_with_autothrottle(robots_crawl: Crawled) -> None:
    # robots.txt itself comes before the delay is known; every page after it waits.
    pages = [r for r in robots_crawl.log() if r.path != "/robots.txt"]
    assert len(pages) >= 5, [r.path for r in pages]
    waits = gaps(pages)
    # The server logs a request when its thread reads it; on a loaded machine that can lag.
    assert min(waits) >= CRAWL_DELAY * 0.8, f"requests closer than Crawl-delay: {waits}"


def _pause_breaches(log: list[LoggedRequest], hit: LoggedRequest, until: float) -> list[str]:
    """Requests to the host after the 429 (and its in-flight grace) but before `until`."""
    return [
        f"{r.path} at +{r.time - hit.time:.2f}s"
        for r in log
        if hit.time + IN_FLIGHT_GRACE < r.time < until
    ]


def test_retry_after_seconds_pauses_the_whole_host(retry_crawl: Crawled) -> None:
    hits = retry_crawl.faults.hits("retry-seconds")
    assert len(hits) == 2, "one 429, then one retry"
    first, retry = hits
    assert retry.time - first.time >= RETRY_AFTER
    assert _pause_breaches(retry_crawl.log(), first, first.time + RETRY_AFTER) == []


def test_retry_after_http_date_pauses_the_whole_host(retry_crawl: Crawled) -> None:
    hits = retry_crawl.faults.hits("retry-date")
    assert len(hits) == 2, "one 429, then one retry"
    first, retry = hits
    # The server asked for int(t) + RETRY_AFTER + 1 (an HTTP date has whole seconds).
    asked = float(int(first.time) + RETRY_AFTER + 1)
    assert retry.time >= asked - 0.05, (
        f"retried at {retry.time:.2f}, before {format_datetime(datetime.fromtimestamp(asked, UTC))}"
    )
    assert _pause_breaches(retry_crawl.log(), first, asked - 0.05) == []


def test_pages_behind_429_are_archived_once_the_host_recovers(retry_crawl: Crawled) -> None:
    archived = articles(retry_crawl.db_url)
    for name in ("retry-seconds", "retry-date", "control"):
        assert retry_crawl.faults.url(name) in archived, name
    assert retry_crawl.run.status == "ok"
    assert error_counts(retry_crawl.run).get("retry_after", 0) == 0


def test_retry_after_beyond_the_limit_gives_up_on_the_host(long_retry_crawl: Crawled) -> None:
    hits = long_retry_crawl.faults.hits("retry-long")
    assert len(hits) == 1, "never asked again within the hour"
    # Requests already on the wire when the 429 arrived cannot be recalled (as above).
    later = [r.path for r in long_retry_crawl.log() if r.time > hits[0].time + IN_FLIGHT_GRACE]
    assert later == [], f"requests after the host asked for an hour: {later}"
    assert long_retry_crawl.elapsed < 60, "the crawl waited instead of giving up"
    assert long_retry_crawl.run.status == "ok"
    assert error_counts(long_retry_crawl.run).get("retry_after", 0) >= 1
    assert summary_errors(long_retry_crawl.stdout).get("retry_after", 0) >= 1


def test_503_without_retry_after_backs_off_more_each_time(backoff_crawl: Crawled) -> None:
    hits = backoff_crawl.faults.hits("unavailable")
    assert 3 <= len(hits) <= 4, f"retried 2 or 3 times: {len(hits)} hits"
    waits = gaps(hits)
    assert min(waits) > 0.1, f"a retry without back-off: {waits}"
    assert all(b > a for a, b in itertools.pairwise(waits)), f"back-off does not grow: {waits}"
    assert error_counts(backoff_crawl.run).get("http_503", 0) == 1, "one URL failed, once"
    state = url_states(backoff_crawl.db_url)[backoff_crawl.faults.url("unavailable")]
    assert state.consecutive_errors >= 1 and state.last_status == 503
    assert backoff_crawl.faults.url("control") in articles(backoff_crawl.db_url)
