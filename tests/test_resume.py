"""A crawl killed part-way loses nothing: SIGKILL then re-run, and a graceful SIGTERM.

The crawl is a real `python -m crawler crawl` process, started in its own process group so a
SIGKILL takes its extraction workers too (as `kill -9` of a service's cgroup would); the
archive is watched read-only while it runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crawler.demo_site import LoggedRequest
from storage.warc import WarcStore, payload_digest
from tests.crawling import REPO, CrawlEnv, ledger_env, run_cli
from tests.fault_crawling import (
    articles,
    captures,
    count_rows,
    edit_config,
    is_conditional,
    runs,
    sqlite_path,
    wait_for,
)

CATEGORIES, PER_CATEGORY, PAGE_SIZE, MAX_PAGES = 3, 30, 10, 3
CONCURRENCY = 4
KILL_AT = 10  # articles in the archive when the crawl is SIGKILLed
TERM_AT = 20  # articles sent by the server when the crawl gets SIGTERM
# Requests logged just after the signal were sent before it arrived.
IN_FLIGHT_GRACE = 0.1


@pytest.fixture
def env(tmp_path: Path) -> Iterator[CrawlEnv]:
    """90 Ledger articles on 9 category pages, fetched slowly enough to stop part-way."""
    with ledger_env(
        tmp_path, categories=CATEGORIES, per_category=PER_CATEGORY, page_size=PAGE_SIZE,
        max_pages=MAX_PAGES,
    ) as env:  # fmt: skip
        edit_config(env.config, "ledger", concurrency=str(CONCURRENCY), download_delay="0.05")
        yield env


def _start_crawl(env: CrawlEnv) -> subprocess.Popen[bytes]:
    out = (env.directory / "crawl.out").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(env.config), "crawl"],
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Leave nothing of a crawl behind, whatever the test did to it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def _article_requests(env: CrawlEnv) -> list[LoggedRequest]:
    paths = {a.path for a in env.sites["ledger"].articles()}
    return [r for r in env.server.requests("ledger") if r.path.split("?")[0] in paths]


def _wait_until_part_done(
    env: CrawlEnv, proc: subprocess.Popen[bytes], done: Callable[[], bool]
) -> None:
    reached = wait_for(lambda: proc.poll() is not None or done(), timeout=90)
    assert reached and proc.poll() is None, (
        f"the crawl ended (exit {proc.returncode}) before it could be stopped part-way:\n"
        + (env.directory / "crawl.out").read_text(errors="replace")[-3000:]
    )


def _expected(env: CrawlEnv) -> set[str]:
    return set(env.sites["ledger"].all_article_urls(MAX_PAGES))


def _assert_captures_read_back(env: CrawlEnv) -> None:
    store = WarcStore(env.warc_dir)
    rows = captures(env.db_url)
    assert rows
    for cap in rows:
        record = store.read(cap.warc_file, cap.warc_offset)
        assert record.status == cap.status
        if cap.record_kind == "response":
            assert payload_digest(record.payload) == cap.payload_digest


def _full_fetches(log: list[LoggedRequest], article_paths: set[str]) -> set[str]:
    """Article paths fetched without validators (a 304 check is not a second download)."""
    return {
        r.path.split("?")[0]
        for r in log
        if r.path.split("?")[0] in article_paths and not is_conditional(r)
    }


def test_sigkill_then_rerun_archives_every_article_once(env: CrawlEnv) -> None:
    proc = _start_crawl(env)
    try:
        db = sqlite_path(env.db_url)
        _wait_until_part_done(env, proc, lambda: count_rows(db, "articles") >= KILL_AT)
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        _stop_group(proc)
    at_kill = len(articles(env.db_url))
    assert at_kill < len(_expected(env)), "the crawl finished before the kill: make it bigger"
    first_log = env.server.requests("ledger")
    env.server.clear_log()

    run_cli("crawl", config=env.config, timeout=180)

    archived = articles(env.db_url)
    assert set(archived) == _expected(env)
    assert all(a.current_version == 1 for a in archived.values())
    assert count_rows(sqlite_path(env.db_url), "versions") == len(archived)
    _assert_captures_read_back(env)
    killed, rerun = runs(env.db_url)
    assert killed.status in ("killed", "failed"), "a killed run must not stay 'running'"
    assert rerun.status == "ok"
    paths = {a.path for a in env.sites["ledger"].articles()}
    twice = _full_fetches(first_log, paths) & _full_fetches(env.server.requests("ledger"), paths)
    assert len(twice) <= CONCURRENCY * 2, f"{len(twice)} articles downloaded again: {twice}"


def test_sigterm_stops_gracefully_and_keeps_what_was_fetched(env: CrawlEnv) -> None:
    proc = _start_crawl(env)
    try:
        # Stopped by what the server has sent, not by what is archived: the archive lags.
        _wait_until_part_done(env, proc, lambda: len(_article_requests(env)) >= TERM_AT)
        proc.send_signal(signal.SIGTERM)
        signalled = time.time()
        code = proc.wait(60)
    finally:
        _stop_group(proc)
    output = (env.directory / "crawl.out").read_text(errors="replace")
    assert code == 3, f"exit {code}:\n{output[-3000:]}"
    (run,) = runs(env.db_url)
    assert run.status == "killed"
    assert run.finished_at is not None and run.stats is not None
    assert "killed" in output
    after = [r.path for r in _article_requests(env) if r.time > signalled + IN_FLIGHT_GRACE]
    assert len(after) <= CONCURRENCY * 2, f"{len(after)} articles requested after SIGTERM"
    archived = articles(env.db_url)
    assert 0 < len(archived) < len(_expected(env))
    assert count_rows(sqlite_path(env.db_url), "versions") == len(archived)
    _assert_captures_read_back(env)
    # In-flight pages were finished: every article page captured has its article.
    fetched = {
        c.url
        for c in captures(env.db_url)
        if c.page_kind == "article" and c.status == 200 and c.record_kind == "response"
    }
    assert fetched <= set(archived), f"captured but not archived: {fetched - set(archived)}"
