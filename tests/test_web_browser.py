"""The web UI in a real browser (Debian's chromium driven by Playwright), over a crawled demo.

Crawl the demo sites for three rounds (edits make new versions), start `newsarchive serve`
in a subprocess, then do what a user does: search, open a result, step through versions,
open the diff, open the raw capture. The Ledger's pages carry an analytics script that
rewrites the title and calls fetch(): in the archived copy it must not run, and no request
may leave 127.0.0.1. Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.demo_site import make_sites, serve
from tests.conftest import IN_CI
from tests.crawling import REPO, run_cli, write_config

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _need_browser() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        why = f"playwright is not installed ({exc})"
    else:
        if CHROMIUM.exists():
            return
        why = f"{CHROMIUM} is missing (apt-get install chromium)"
    if IN_CI:
        pytest.fail(f"the browser test needs chromium and playwright in CI: {why}")
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A demo archive crawled in three rounds, served by `newsarchive serve` on loopback."""
    _need_browser()
    directory = tmp_path_factory.mktemp("web")
    # Many edits per round on few articles: some article gets edited in both later rounds.
    ledger, courier = make_sites(
        categories=2, articles_per_category=8, page_size=6, edits_per_round=8
    )
    db = directory / "archive.db"
    with serve(ledger, courier) as server:
        sites = {"ledger": ledger, "courier": courier}
        config = write_config(directory, f"sqlite:///{db}", server, sites, max_pages=3)
        for r in range(3):
            if r:
                server.advance()
            run_cli("crawl", "--full", config=config, timeout=240)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(config), "serve", "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/static/style.css", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"serve exited: {proc.stdout.read() if proc.stdout else ''}")
                time.sleep(0.1)
        yield base, db
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _edited_ledger_article(db: Path) -> tuple[int, str, int]:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT id, title, current_version FROM articles WHERE site = 'ledger' "
            "AND current_version > 1 ORDER BY current_version DESC, id LIMIT 1"
        ).fetchone()
    assert row is not None and row[2] >= 3, "the later rounds edit a Ledger article twice"
    return int(row[0]), str(row[1]), int(row[2])


def test_search_article_versions_diff_and_sandboxed_raw(served: tuple[str, Path]) -> None:
    from playwright.sync_api import Route, sync_playwright

    base, db = served
    article_id, title, n_versions = _edited_ledger_article(db)
    ARTIFACTS.mkdir(exist_ok=True)
    requested: list[str] = []
    left_loopback: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        requested.append(url)
        if urlsplit(url).hostname != "127.0.0.1":
            left_loopback.append(url)
            route.abort()
        else:
            route.continue_()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.route("**/*", guard)
        page.goto(base + "/")
        assert page.locator("table.list").get_by_text("The Daily Ledger").count() == 1
        page.screenshot(path=ARTIFACTS / "home.png", full_page=True)

        # Search the way a user does: "/" focuses the box, type, Enter.
        words = [w for w in title.split() if len(w) > 4][:2]
        page.keyboard.press("/")
        page.keyboard.type(" ".join(words))
        page.keyboard.press("Enter")
        page.wait_for_url("**/search?q=*")
        assert page.locator(".hit mark").count() > 0
        page.screenshot(path=ARTIFACTS / "search.png", full_page=True)
        page.locator(f'a.hit-title[href="/articles/{article_id}"]').click()

        page.wait_for_url(f"**/articles/{article_id}")
        assert page.locator("h1").inner_text() == title
        assert page.locator(".timeline li").count() == n_versions
        page.screenshot(path=ARTIFACTS / "article.png", full_page=True)

        # Step through the versions: the first diff, then "]" (rel=next) to the last one.
        page.locator(".timeline a.diff-link").first.click()
        page.wait_for_url("**/diff?from=1&to=2")
        changes = page.locator(".title-change ins, .title-change del, #inline ins, #inline del")
        assert changes.count() > 0
        assert page.locator("#sides ins .sign, #sides del .sign").first.inner_text() in (
            "+",
            "\u2212",
        )
        page.screenshot(path=ARTIFACTS / "diff.png", full_page=True)
        for n in range(2, n_versions):
            page.keyboard.press("]")
            page.wait_for_url(f"**/diff?from={n}&to={n + 1}")
        assert page.locator('a[rel="next"]').count() == 0, "the last diff has no next"
        page.keyboard.press("[")
        page.wait_for_url(f"**/diff?from={n_versions - 2}&to={n_versions - 1}")

        # The archived page itself: the analytics script must not have run.
        page.goto(f"{base}/articles/{article_id}")
        raw_link = page.locator('a[href$="/raw"]').first
        raw_href = raw_link.get_attribute("href")
        raw_link.click()
        page.wait_for_url(f"**{raw_href}")
        page.wait_for_timeout(500)  # time for a script (and its fetch) to run, if it could
        assert page.locator("h1.entry-title").count() == 1, "the archived article is shown"
        assert page.locator("script#stats").count() == 1, "the script is in the page"
        assert page.get_attribute("html", "data-analytics") is None
        assert not page.title().startswith("[tracked]")
        page.screenshot(path=ARTIFACTS / "raw.png", full_page=False)
        assert requested and left_loopback == [], f"requests left 127.0.0.1: {left_loopback}"

        # Control: the same bytes without the sandbox do run the script and try to leave.
        with urllib.request.urlopen(base + str(raw_href)) as resp:
            archived = resp.read().decode("utf-8")
        control = browser.new_page()
        control.route("**/*", guard)
        control.set_content(archived)
        control.wait_for_timeout(500)
        assert control.get_attribute("html", "data-analytics") == "ran"
        assert any("stats.wordpress.example" in u for u in left_loopback)
        browser.close()
