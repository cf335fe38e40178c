"""A crawl that cannot write its WARC files fails loudly, and the next run makes up for it.

"Disk full" for real, even as root (chmod does not stop root): the crawl runs under
RLIMIT_FSIZE, so any write past a few kB of a WARC file fails with EFBIG (SIGXFSZ is
ignored so the write returns an error instead of killing the process). The archive's
database is PostgreSQL, out of reach of that limit, so only the WARC writes fail.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crawler.demo_site import make_sites, serve
from storage.warc import WarcStore
from tests.crawling import run_cli, run_python, write_config
from tests.fault_crawling import articles, captures, error_counts, runs

FILE_SIZE_LIMIT = 12_000  # bytes: the warcinfo record and a few pages fit, the rest do not
LIMITED = (
    "import os, resource, signal, sys\n"
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
    f"resource.setrlimit(resource.RLIMIT_FSIZE, ({FILE_SIZE_LIMIT}, {FILE_SIZE_LIMIT}))\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'crawler', *sys.argv[1:]])\n"
)


def crawl_with_a_full_disk(config: Path) -> subprocess.CompletedProcess[str]:
    return run_python("-c", LIMITED, "--config", str(config), "crawl")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_run_that_cannot_write_fails_and_the_next_one_recovers(
    db_url: str, tmp_path: Path
) -> None:
    ledger, _ = make_sites(categories=2, articles_per_category=4, page_size=4)
    with serve(ledger) as server:
        config = write_config(tmp_path, db_url, server, {"ledger": ledger}, max_pages=1)
        listed = set(ledger.all_article_urls(max_pages=1))
        assert len(listed) == 8

        failed = crawl_with_a_full_disk(config)
        assert failed.returncode == 1, failed.stdout + failed.stderr[-2000:]
        assert "ledger: run 1 failed" in failed.stdout
        assert "archive_write=" in failed.stdout
        run = runs(db_url)[-1]
        assert run.status == "failed"
        assert run.error is not None and "not archived" in run.error
        assert error_counts(run)["archive_write"] >= 1
        kept = {c.id: (c.warc_file, c.warc_offset) for c in captures(db_url)}
        assert len(set(articles(db_url)) & listed) < len(listed), "the limit never bit"

        # Every row written points at a readable record.
        store = WarcStore(tmp_path / "warc")
        for warc_file, offset in kept.values():
            store.read(warc_file, offset)

        out = run_cli("crawl", config=config).stdout  # no limit now: exits 0
        assert "ledger: run 2 ok" in out
        assert listed <= set(articles(db_url)), "pages lost in the failed run were fetched again"
        after = {c.id: (c.warc_file, c.warc_offset) for c in captures(db_url)}
        assert {k: after[k] for k in kept} == kept, "nothing archived before is lost"
        for warc_file, offset in after.values():
            store.read(warc_file, offset)
