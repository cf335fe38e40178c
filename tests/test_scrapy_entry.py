"""`scrapy crawl news -a site=KEY` runs the same crawl as `newsarchive crawl KEY`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.crawling import ledger_env, run_cli, run_python


def scrapy_crawl(*args: str) -> subprocess.CompletedProcess[str]:
    """`scrapy crawl news ARGS` from the project folder (its scrapy.cfg), in a real process."""
    return run_python("-m", "scrapy", "crawl", "news", *args)


def counts(db_url: str) -> tuple[int, int, list[tuple[str, str, str]]]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        articles = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
        captures = conn.execute(text("SELECT count(*) FROM captures")).scalar_one()
        rows = conn.execute(text("SELECT site, trigger, status FROM crawl_runs ORDER BY id")).all()
    engine.dispose()
    return articles, captures, [tuple(r) for r in rows]  # type: ignore[misc]


def test_scrapy_crawl_archives_like_newsarchive_crawl(tmp_path: Path) -> None:
    with ledger_env(tmp_path, categories=1, per_category=6, page_size=6, max_pages=1) as env:
        proc = scrapy_crawl("-a", "site=ledger", "-a", f"config={env.config}")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "ledger: run 1 ok:" in proc.stdout
        assert "6 new" in proc.stdout
        articles, captures, runs = counts(env.db_url)
        assert captures >= 7  # the category page and its 6 articles
        assert articles == 6
        assert runs == [("ledger", "manual", "ok")]
        assert list(env.warc_dir.glob("*.warc.gz"))
        # The archive it wrote is the one `newsarchive crawl` continues: nothing new to fetch.
        again = run_cli("crawl", "ledger", config=env.config)
        assert "ledger: run 2 ok:" in again.stdout
        assert "0 new" in again.stdout
        assert counts(env.db_url)[0] == 6


def test_scrapy_crawl_without_a_known_site_is_one_line(tmp_path: Path) -> None:
    with ledger_env(tmp_path, categories=1, per_category=2, page_size=2, max_pages=1) as env:
        for args in (
            [f"-a config={env.config}"],
            ["-a", "site=nope", "-a", f"config={env.config}"],
        ):
            proc = scrapy_crawl(*args)
            assert proc.returncode == 2
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1, proc.stderr
            assert lines[0].startswith("error: ")
            assert "Traceback" not in proc.stderr
        assert not (tmp_path / "warc").exists() or not list((tmp_path / "warc").iterdir())


def test_crawl_never_loads_scrapys_remote_control(tmp_path: Path) -> None:
    # Its HTTP server runs posted Python code; loading it at all costs aiohttp's import.
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('remote control loaded:',"
        " 'scrapy.extensions.remote_control' in sys.modules))\n"
        "sys.argv = ['newsarchive', '--config', sys.argv[1], 'crawl', 'ledger']\n"
        "from crawler.cli import main\n"
        "main()\n"
    )
    with ledger_env(tmp_path, categories=1, per_category=2, page_size=2, max_pages=1) as env:
        proc = run_python("-c", probe, str(env.config))
        assert "ledger: run 1 ok:" in proc.stdout, proc.stderr[-3000:]
        assert "remote control loaded: False" in proc.stdout
