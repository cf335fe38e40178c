"""CLI commands that touch the web: crawl, discover, demo."""

from __future__ import annotations

import gc
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from crawler.cli import AppContext, pass_app
from crawler.cli.options import is_tty


@click.command()
@click.argument("sites", nargs=-1)
@click.option("--max-pages", type=click.IntRange(1, 10_000), help="Pagination depth per category.")
@click.option("--full", is_flag=True, help="Do not stop paginating at pages with nothing new.")
@click.option("--no-revisits", is_flag=True, help="Skip the revisits that are due.")
@click.option("--only-revisits", is_flag=True, help="Fetch only the revisits that are due.")
@click.option(
    "--worker",
    is_flag=True,
    help="Join the shared Redis frontier ([archive] frontier) with other workers.",
)
@click.option(
    "--trigger", type=click.Choice(["manual", "schedule", "revisit"]), default="manual", hidden=True
)
@click.option("--schedule-id", hidden=True)
@click.option("--fire-time", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z"]), hidden=True)
@click.option("--run-id", type=int, hidden=True, help="Take over this crawl_runs row.")
@pass_app
def crawl(
    app: AppContext,
    sites: tuple[str, ...],
    max_pages: int | None,
    full: bool,
    no_revisits: bool,
    only_revisits: bool,
    worker: bool,
    trigger: str,
    schedule_id: str | None,
    fire_time: datetime | None,
    run_id: int | None,
) -> None:
    """Crawl sites now (all configured sites when none are named) and print a summary.

    \b
    Example:
        newsarchive crawl example-news --max-pages 3
    """
    config = app.config
    if worker and not config.archive.frontier:
        raise click.UsageError('--worker needs [archive] frontier = "redis://…" in the config')
    for key in sites:
        config.site(key)  # unknown site: one clear line before anything starts
    if config.archive.frontier:
        _check_frontier(config.archive.frontier)
    from crawler.pool import start_forkserver

    start_forkserver()
    progress: _LiveProgress | None = None
    # Start-up allocates objects that live as long as the crawl (modules, Scrapy's and
    # SQLAlchemy's machinery): collections now would only find them alive. They are
    # frozen and the collector turned back on just before the first request
    # (_freeze_start_up); whatever fails before that, the finally below turns it on.
    gc.disable()
    try:
        # Scrapy's download handler module defines deprecated aliases with inspect.stack(),
        # whose cost grows with the stack's depth and the modules loaded: imported here, not
        # deep inside the engine's start-up, it costs ~65 CPU ms instead of ~100, before the
        # first request.
        import scrapy.core.downloader.handlers.http11  # noqa: F401

        from crawler.runner import format_summary, run_crawl

        _show_crawl_warnings()
        progress = _live_progress() if is_tty() else None
        summaries = run_crawl(
            config,
            sites,
            max_pages=max_pages,
            incremental=not full,
            revisits=not no_revisits,
            categories=not only_revisits,
            trigger=trigger,
            schedule_id=schedule_id,
            fire_time=fire_time,
            run_id=run_id,
            on_progress=progress.update if progress else None,
            before_start=_freeze_start_up,
        )
    finally:
        gc.enable()  # on (and frozen) already, unless start-up failed before the first request
        if progress:
            progress.stop()
    # This process exits next (one crawl per command), and the interpreter's last
    # collections would walk the whole heap (~0.3 s): everything is written and closed.
    gc.freeze()
    click.echo(format_summary(summaries))
    if any(s.status != "ok" for s in summaries):
        sys.exit(1 if any(s.status == "failed" for s in summaries) else 3)


def _freeze_start_up() -> None:
    """Move start-up's objects out of the garbage collector's sight, and turn it on.

    Start-up leaves ~150,000 objects that live as long as the crawl (modules, classes,
    Scrapy's components, SQLAlchemy's compiled statements); every full collection during
    the crawl walked them again (~50 ms each). Done here, by the command that owns the
    process, not by run_crawl: a process that runs several crawls would freeze each one's
    garbage.
    """
    gc.freeze()
    gc.enable()


class _CrawlRecords(logging.Filter):
    """newsarchive's own records: the crawler's modules and the site spiders ("news:KEY")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith(("crawler", "storage", "news"))


def _show_crawl_warnings() -> None:
    """A crawl's warnings on stderr, one line each: a request out of scope, a limit hit, a
    bad feed entry, a host paused or skipped. (Scrapy's own chatter stays off.)"""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.addFilter(_CrawlRecords())
    handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)


class _LiveProgress:
    """A rich live table of per-site counters, refreshed from the crawl's stats."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.live = Live(console=Console(stderr=True), refresh_per_second=4, transient=True)
        self.live.start()

    def update(self, stats: dict[str, Any]) -> None:
        from rich.table import Table

        table = Table("site", "pages", "new", "changed", "unchanged", "errors", title="crawling…")
        for key, st in sorted(stats.items()):
            d = st.as_dict()
            a = d["articles"]
            table.add_row(
                key,
                str(d["pages"]),
                str(a["new"]),
                str(a["changed"]),
                str(a["unchanged"]),
                str(sum(d["errors"].values())),
            )
        self.live.update(table)

    def stop(self) -> None:
        self.live.stop()


def _check_frontier(url: str) -> None:
    """One line, before any run starts, when the shared frontier's Redis does not answer."""
    from storage.redact import redact

    try:
        import redis
    except ImportError:
        raise click.ClickException(
            "a shared frontier needs the distributed extra: pip install 'newsarchive[distributed]'"
        ) from None
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise click.ClickException(f"frontier {redact(url)} unreachable: {exc}") from None
    finally:
        client.close()


def _live_progress() -> _LiveProgress:
    return _LiveProgress()


@click.command()
@click.argument("url", required=False)
@click.option(
    "--html",
    "html_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Read the page from a file instead of fetching URL.",
)
@click.option("--url", "base_url", help="The page's URL (with --html).")
@click.option("--article-pattern", help="Regex that article URLs match (overrides heuristics).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option(
    "--explain", is_flag=True, help="List every link of the page: taken or left, and why."
)
@pass_app
def discover(
    app: AppContext,
    url: str | None,
    html_file: str | None,
    base_url: str | None,
    article_pattern: str | None,
    fmt: str,
    explain: bool,
) -> None:
    """Show what a category page yields: article links, next page, categories, feeds.

    With --explain, every link of the page with whether it is taken as an article and why
    not (furniture, off-site, URL shape, duplicate...): what to write in article_pattern
    when a site still needs one.

    \b
    Examples:
        newsarchive discover https://news.example.com/category/world/
        newsarchive discover --html page.html --url https://news.example.com/world/ --format json
        newsarchive discover https://news.example.com/world/ --explain --format json
    """
    import re

    from crawler.discovery import discover as run_discover
    from crawler.discovery import explain as run_explain
    from crawler.discovery import format_discovery, format_explanation

    if article_pattern is not None:
        try:
            re.compile(article_pattern)
        except re.error as exc:
            raise click.BadParameter(
                f"not a regular expression {article_pattern!r}: {exc}",
                param_hint="--article-pattern",
            ) from None
    if html_file:
        if not base_url:
            raise click.UsageError("--html needs --url (the page's address, to resolve links)")
        body = Path(html_file).read_bytes()
        page_url = base_url
    else:
        if not url:
            raise click.UsageError("give a URL, or --html FILE --url URL")
        body, page_url = _fetch(url, app)
    if explain:
        decisions = run_explain(body, page_url, article_pattern=article_pattern)
        click.echo(format_explanation(decisions, fmt))
        return
    found = run_discover(body, page_url, article_pattern=article_pattern)
    click.echo(format_discovery(found, fmt))


def _fetch(url: str, app: AppContext) -> tuple[bytes, str]:
    """One polite GET with the configured User-Agent (no crawl machinery needed)."""
    import http.client
    import urllib.error
    import urllib.request

    from crawler.config import check_http_url

    try:
        check_http_url(url)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    req = urllib.request.Request(url, headers={"User-Agent": app.config.archive.user_agent})
    try:
        with urllib.request.urlopen(req, timeout=app.config.archive.download_timeout) as resp:
            limit = int(app.config.archive.max_response_mb * 1024 * 1024)
            return resp.read(limit), resp.geturl()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # URLError, timeouts, resets are OSErrors; a server speaking garbage or hanging up
        # mid-response is an HTTPException (BadStatusLine, RemoteDisconnected, IncompleteRead).
        why = f"{type(exc).__name__}: {exc}" if isinstance(exc, http.client.HTTPException) else exc
        raise click.ClickException(f"cannot fetch {url}: {why}") from None


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default="demo-archive",
    show_default=True,
    help="Where the demo archive (SQLite + WARC) is written.",
)
@click.option("--rounds", type=click.IntRange(1, 10), default=3, show_default=True)
@pass_app
def demo(app: AppContext, directory: str, rounds: int) -> None:
    """Serve the bundled demo news sites on loopback, archive them, print what was archived.

    \b
    Example:
        newsarchive demo --rounds 3
    """
    from crawler.cli.demo import run_demo

    run_demo(Path(directory), rounds)


def register(cli: click.Group) -> None:
    """Attach these commands to the main group."""
    cli.add_command(crawl)
    cli.add_command(discover)
    cli.add_command(demo)
