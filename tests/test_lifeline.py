"""A crawl or a reextract killed with SIGKILL leaves no process behind.

SIGKILL runs no cleanup: what ends the extraction workers (and so the forkserver and the
resource tracker, which wait for them) is crawler.lifeline, started in each worker.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo_site import make_sites, serve
from tests.crawling import REPO, CrawlEnv, run_cli, write_config
from tests.fault_crawling import count_rows, sqlite_path, wait_for

OPTION = "prune_xpath=//p[1]"  # every page extracts differently: reextract has work to do


def _parents() -> dict[int, int]:
    out: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            out[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`."""
    parents = _parents()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def kill_and_check(cmd: list[str], ready_children: int, ready: object = None) -> None:
    """Start cmd, wait for its workers, SIGKILL it, then expect every descendant gone."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", *cmd],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: len(descendants(proc.pid)) >= ready_children, 60), (
            "the workers never started"
        )
        if callable(ready):
            assert wait_for(ready, 60), "no page was extracted"
        children = descendants(proc.pid)
        proc.kill()
        proc.wait(10)
        left = wait_for(lambda: not [p for p in children if alive(p)], 10)
        assert left, f"left running after SIGKILL: {[p for p in children if alive(p)]}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawlEnv]:
    tmp = tmp_path_factory.mktemp("lifeline")
    # Big enough that the crawl and reextract are still running when they are killed.
    ledger, _ = make_sites(categories=6, articles_per_category=100, page_size=10)
    with serve(ledger) as server:
        db_url = f"sqlite:///{tmp / 'archive.db'}"
        config = write_config(tmp, db_url, server, {"ledger": ledger}, max_pages=10)
        yield CrawlEnv(tmp, db_url, config, server, {"ledger": ledger})


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_crawl_leaves_no_process(ledger: CrawlEnv) -> None:
    db_file = sqlite_path(ledger.db_url)
    # The forkserver, a worker and the resource tracker: 3 processes under the crawl.
    kill_and_check(
        ["--config", str(ledger.config), "crawl"],
        ready_children=3,
        ready=lambda: count_rows(db_file, "extractions") >= 1,
    )


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_reextract_leaves_no_process(ledger: CrawlEnv) -> None:
    run_cli("crawl", "--full", config=ledger.config, timeout=300)
    kill_and_check(
        ["--config", str(ledger.config), "reextract", "--option", OPTION, "--workers", "2"],
        ready_children=2,
    )
