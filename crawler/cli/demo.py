"""`newsarchive demo`: serve the demo sites on loopback, crawl a few rounds, show the archive."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click

from storage import query
from storage.db import Archive
from storage.overview import overview

DEMO_CONFIG = """\
# Written by `newsarchive demo`: the demo sites run on loopback, so no crawl delay.
[archive]
database_url = "sqlite:///{db}"
warc_dir = "{warc}"
user_agent = "newsarchive-demo (+http://127.0.0.1/)"
download_delay = 0
autothrottle = false
concurrency_per_domain = 8

[[sites]]
key = "ledger"
name = "The Daily Ledger"
start_urls = [{ledger_starts}]
max_pages = 3
feeds = ["{ledger}/feed/"]

[[sites]]
key = "courier"
name = "Metro Courier"
start_urls = [{courier_starts}]
max_pages = 3
sitemaps = ["{courier}/news-sitemap.xml"]
"""


def write_demo_config(directory: Path, urls: dict[str, str], starts: dict[str, list[str]]) -> Path:
    """Write the demo's newsarchive.toml pointing at the running demo servers."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "newsarchive.toml"

    def quoted(items: list[str]) -> str:
        return ", ".join(f'"{u}"' for u in items)

    path.write_text(
        DEMO_CONFIG.format(
            db=(directory / "archive.db").resolve().as_posix(),
            warc=(directory / "warc").resolve().as_posix(),
            ledger=urls["ledger"],
            courier=urls["courier"],
            ledger_starts=quoted(starts["ledger"]),
            courier_starts=quoted(starts["courier"]),
        ),
        encoding="utf-8",
    )
    return path


def run_demo(directory: Path, rounds: int) -> None:
    """Serve, crawl `rounds` rounds (each a `newsarchive crawl` process), print a summary."""
    from crawler.demo_site import make_sites, serve

    for stale in ("archive.db", "archive.db-wal", "archive.db-shm", "warc"):
        target = directory / stale
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    ledger, courier = make_sites(categories=3, articles_per_category=12, page_size=6)
    started = time.monotonic()
    with serve(ledger, courier) as server:
        starts = {
            site.key: [site.category_url(c) for c in site.categories] for site in (ledger, courier)
        }
        config = write_demo_config(directory, server.url, starts)
        click.echo(
            f"demo sites: {server.url['ledger']} (Daily Ledger), "
            f"{server.url['courier']} (Metro Courier)"
        )
        click.echo(f"archive: {directory / 'archive.db'} + {directory / 'warc'}/")
        for r in range(1, rounds + 1):
            if r > 1:
                server.advance()
            click.echo(f"\n== round {r}: crawl ==")
            # --full: the demo shows edits found by re-fetching listed articles (conditional
            # GET keeps it cheap); a real schedule relies on the revisit ladder instead.
            cmd = [sys.executable, "-m", "crawler", "--config", str(config), "crawl", "--full"]
            proc = subprocess.run(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, check=False)
            if proc.returncode not in (0, 3):
                raise click.ClickException(f"round {r}: crawl exited with {proc.returncode}")
        click.echo(
            f"\n{len(server.requests())} requests served in {time.monotonic() - started:.1f}s"
        )
    print_archive_summary(f"sqlite:///{(directory / 'archive.db').resolve().as_posix()}")
    cfg = directory / "newsarchive.toml"
    click.echo(
        f"\nnext: newsarchive --config {cfg} search 'bridge'  |  stats  |  show ID  |  "
        f"export --format jsonl -o -"
    )
    click.echo(f"browse it: newsarchive --config {cfg} serve   (then open http://127.0.0.1:8080/)")


def print_archive_summary(db_url: str) -> None:
    """What the archive holds: counts, latest articles, one diff, near-duplicates."""
    with Archive(db_url) as archive, archive.session() as s:
        view = overview(s)
        click.echo(f"\n== archive: {view.articles} articles, {view.versions} versions ==")
        for site, n in view.by_site.items():
            click.echo(f"  {site}: {n} articles")
        click.echo("\nlatest articles:")
        for art in view.latest:
            when = art.published_at.strftime("%Y-%m-%d %H:%M") if art.published_at else "?"
            authors = ", ".join(art.authors) or "?"
            click.echo(f"  [{art.id}] {when}  {art.title}  ({authors}; v{art.version})")
        click.echo(f"\nedited articles (more than one version): {view.edited}")
        if view.smallest_edit is not None:
            art_id = view.smallest_edit
            lines = query.diff(s, art_id).unified().splitlines()
            click.echo(f"diff of article {art_id}, v1 -> v2:")
            for line in lines[:14]:
                click.echo("  " + (line if len(line) <= 300 else line[:300] + " …"))
            if len(lines) > 14:
                click.echo(f"  … ({len(lines) - 14} more lines: newsarchive diff {art_id})")
        click.echo(f"\nnear-duplicate clusters: {len(view.clusters)}")
        for cluster_id, members in view.clusters.items():
            for art in members:
                click.echo(f"  cluster {cluster_id}: [{art.site}] {art.title}  {art.url}")
