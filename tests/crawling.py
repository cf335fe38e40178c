"""Helpers for tests that crawl the demo site with a real `newsarchive crawl` process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crawler.demo_site import DemoServer, DemoSite, make_sites, serve
from tests import configs
from tests.configs import archive_table, toml_table

REPO = Path(__file__).resolve().parents[1]


@dataclass
class CrawlEnv:
    """A config file pointing at running demo sites, and the archive it writes."""

    directory: Path
    db_url: str
    config: Path
    server: DemoServer
    sites: dict[str, DemoSite]

    @property
    def warc_dir(self) -> Path:
        return self.directory / "warc"


def write_config(
    directory: Path,
    db_url: str,
    server: DemoServer,
    sites: dict[str, DemoSite],
    *,
    max_pages: int = 2,
    extra_site: str = "",
    extra_archive: str = "",
    auto_sources: bool = False,
) -> Path:
    """A newsarchive.toml for the demo sites; loopback, so no politeness delay.

    Auto sources are off unless asked for: the demo pages link feeds and their robots.txt
    names sitemaps, which would add articles beyond the listings most tests count on.
    """
    tables = [
        {
            "key": key,
            "name": site.name,
            "start_urls": [site.category_url(c) for c in site.categories],
            "max_pages": max_pages,
            "allowed_domains": [server.url[key].split("://", 1)[1]],
            "auto_sources": auto_sources,
            **toml_table(extra_site),
        }
        for key, site in sites.items()
    ]
    archive = archive_table(directory, db_url, **toml_table(extra_archive))
    return configs.write_config(directory, archive, tables)


@contextmanager
def ledger_env(
    tmp_path: Path,
    *,
    categories: int,
    per_category: int,
    page_size: int,
    max_pages: int,
    extra_site: str = "",
    extra_archive: str = "",
) -> Iterator[CrawlEnv]:
    """The demo Daily Ledger alone, served on loopback, with a config crawling it into a
    SQLite archive in tmp_path."""
    ledger, _courier = make_sites(
        categories=categories, articles_per_category=per_category, page_size=page_size
    )
    with serve(ledger) as server:
        db_url = f"sqlite:///{tmp_path / 'archive.db'}"
        sites = {"ledger": ledger}
        config = write_config(
            tmp_path, db_url, server, sites, max_pages=max_pages,
            extra_site=extra_site, extra_archive=extra_archive,
        )  # fmt: skip
        yield CrawlEnv(tmp_path, db_url, config, server, sites)


def run_python(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run `python ARGS` from the project folder, output captured, whatever its exit status."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )


def run_cli(
    *args: str, config: Path | None = None, timeout: float = 180, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `python -m crawler [--config CFG] ARGS` in a real process."""
    options = ["--config", str(config)] if config is not None else []
    proc = run_python("-m", "crawler", *options, *args, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr[-4000:]}"
        )
    return proc
