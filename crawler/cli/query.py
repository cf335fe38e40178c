"""CLI commands that read or re-extract the archive: search, show, diff, export, reextract, stats.

Each command is a thin shell over storage.query / storage.export / crawler.reextract; user
mistakes (bad query, bad date, unknown article) surface as QueryError / NotFound, which
`crawler.cli.main` prints as one line.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from crawler.cli import AppContext, pass_app
from storage.errors import QueryError

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ["table", "json", "jsonl", "csv"]
MAX_OFFSET = 10**12  # far past any archive; larger overflows the databases' 64-bit OFFSET


def _filter_options(fn: F) -> F:
    """--site/--since/--until shared by the commands that select from the archive."""
    fn = click.option("--until", help="Up to this date (exclusive end of day), e.g. 2024-05-31.")(
        fn
    )
    fn = click.option("--since", help="From this date: 2024-05-01, an ISO time, or an age: 7d.")(fn)
    return click.option("--site", help="Only this site (its key in the config).")(fn)


def _dates(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    from storage.query import parse_when

    start = parse_when(since) if since else None
    end = parse_when(until, end=True) if until else None
    if start and end and start >= end:
        raise QueryError(f"--since {since} is not before --until {until}")
    return start, end


def _is_tty(stream: IO[Any]) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def _reading(app: AppContext) -> Iterator[Any]:
    archive = app.archive(readonly=True)
    try:
        with archive.session() as session:
            yield session
    finally:
        archive.close()


def _emit_rows(rows: list[dict[str, Any]], fmt: str, columns: list[str]) -> None:
    """Print rows as json, jsonl or csv (table is per command)."""
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()})


@click.command()
@click.argument("query")
@_filter_options
@click.option("--author", help="Only articles with an author containing this (any case).")
@click.option("--language", help="Only articles in this language, e.g. en.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option(
    "--offset", type=click.IntRange(0, MAX_OFFSET), default=0, help="Skip this many hits."
)
@click.option(
    "--page", type=click.IntRange(1, MAX_OFFSET), help="Page number (of --limit hits each)."
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table")
@pass_app
def search(
    app: AppContext,
    query: str,
    site: str | None,
    since: str | None,
    until: str | None,
    author: str | None,
    language: str | None,
    sort: str,
    limit: int,
    offset: int,
    page: int | None,
    fmt: str,
) -> None:
    """Full-text search over the current version of every article.

    Words must all match; "quoted phrases", OR between words, and -word to exclude.
    --since/--until filter on the published date.

    \b
    Example:
        newsarchive search '"hospital wing" -parking' --site ledger --since 2024-05-01
    """
    from storage.query import Filters
    from storage.query import search as run_search

    start, end = _dates(since, until)
    filters = Filters(site=site, since=start, until=end, author=author, language=language)
    if page:
        offset = (page - 1) * limit
        if offset > MAX_OFFSET:
            raise click.BadParameter(f"page {page} of {limit} starts past hit {MAX_OFFSET}")
    with _reading(app) as s:
        hits = run_search(s, query, filters, sort=sort, limit=limit, offset=offset)  # type: ignore[arg-type]
    rows: list[dict[str, Any]] = [
        {
            "id": h.article_id,
            "site": h.site,
            "canonical_url": h.canonical_url,
            "title": h.title,
            "seo_title": h.seo_title,
            "authors": h.authors,
            "published_at": h.published_at.isoformat() if h.published_at else None,
            "language": h.language,
            "version": h.version,
            "score": h.score,
            "snippet": h.snippet,
        }
        for h in hits
    ]
    if fmt != "table":
        _emit_rows(rows, fmt, list(rows[0]) if rows else ["id"])
        return
    if not rows:
        click.echo("no articles match", err=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "site", "published", "title / snippet", show_lines=True)
    for r in rows:
        published = (r["published_at"] or "")[:10]
        table.add_row(
            str(r["id"]), r["site"], published, f"[bold]{_esc(r['title'])}[/]\n{_esc(r['snippet'])}"
        )
    Console().print(table)


def _esc(text: str | None) -> str:
    from rich.markup import escape

    return escape(text or "")


@click.command()
@click.argument("article")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_app
def show(app: AppContext, article: str, fmt: str) -> None:
    """Show one article (by id or any URL it was seen under) with all its versions.

    \b
    Example:
        newsarchive show 42
        newsarchive show https://news.example.com/2024/05/06/budget/ --format json
    """
    from storage.query import article_history

    with _reading(app) as s:
        data, versions = article_history(s, article)
    if fmt == "json":
        click.echo(
            json.dumps({**data, "history": [v.as_dict() for v in versions]}, ensure_ascii=False)
        )
        return
    click.echo(f"article {data['id']} [{data['site']}] {data['title']}")
    for key in (
        "seo_title",
        "canonical_url",
        "url",
        "published_at",
        "modified_at",
        "language",
        "status",
    ):
        if data.get(key):
            click.echo(f"  {key}: {data[key]}")
    click.echo(f"  authors: {', '.join(data['authors']) or '-'}")
    if data["categories"] or data["tags"]:
        click.echo(
            f"  categories: {', '.join(data['categories'])}  tags: {', '.join(data['tags'])}"
        )
    click.echo(f"  seen: {data['first_seen_at']} .. {data['last_seen_at']}")
    if data["cluster_id"]:
        click.echo(f"  near-duplicate cluster: {data['cluster_id']}")
    click.echo(f"versions: {data['versions']}")
    for v in versions:
        change = (
            f"{v.change_kind} +{v.chars_added}/-{v.chars_removed}" if v.change_kind else "first"
        )
        click.echo(
            f"  v{v.n}  {v.first_seen_at:%Y-%m-%d %H:%M} .. {v.last_seen_at:%Y-%m-%d %H:%M}"
            f"  {change:<20} {v.title or ''}"
        )
    click.echo("")
    click.echo(data["text"] or "")


@click.command()
@click.argument("article")
@click.option("--from", "from_n", type=int, help="Old version number (default: previous).")
@click.option("--to", "to_n", type=int, help="New version number (default: current).")
@click.option("--color/--no-color", default=None, help="Colours (default: when on a terminal).")
@pass_app
def diff(
    app: AppContext, article: str, from_n: int | None, to_n: int | None, color: bool | None
) -> None:
    """Word-level diff of an article's title and text between two versions.

    Coloured on a terminal; otherwise [-removed-]{+added+} markup, changed paragraphs only.

    \b
    Example:
        newsarchive diff 42 --from 1 --to 3
    """
    from storage.query import diff as run_diff

    with _reading(app) as s:
        d = run_diff(s, article, from_n, to_n)
    if not (color if color is not None else _is_tty(sys.stdout)):
        click.echo(d.unified())
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    console.print(d.unified().split("\n", 2)[0], style="bold red", markup=False)
    console.print(d.unified().split("\n", 2)[1], style="bold green", markup=False)
    for label, segments in (("title", d.title), ("text", d.body)):
        text = Text(f"── {label} ──\n", style="cyan")
        for seg in segments:
            style = {"delete": "red strike", "insert": "bold green"}.get(seg.kind, "")
            text.append(seg.text, style=style)
        console.print(text)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "warc", "cdxj"]), required=True)
@_filter_options
@click.option("--all-versions", is_flag=True, help="jsonl/csv: one row per version.")
@click.option("-o", "--output", required=True, help="Output file, or - for stdout.")
@click.option("--force", is_flag=True, help="Replace an existing file (never the archive's own).")
@pass_app
def export(
    app: AppContext,
    fmt: str,
    site: str | None,
    since: str | None,
    until: str | None,
    all_versions: bool,
    output: str,
    force: bool,
) -> None:
    """Export articles (jsonl, csv) or the original captures (warc) and their index (cdxj).

    For jsonl/csv --since/--until filter on the published date; for warc/cdxj on the fetch
    time. The cdxj index points into the archive's own WARC directory (for pywb).

    \b
    Example:
        newsarchive export --format jsonl --site ledger -o ledger.jsonl
        newsarchive export --format warc --since 2024-05-01 -o may.warc.gz
    """
    from crawler.cli.export_target import check_output
    from storage import export as ex
    from storage.query import Filters

    start, end = _dates(since, until)
    binary = fmt == "warc"
    if binary and output == "-" and _is_tty(sys.stdout):
        raise click.UsageError("refusing to write gzipped WARC to a terminal: use -o FILE")
    direct = check_output(output, app.config, force=force)
    skipped: list[str] = []
    with _reading(app) as s, _open_output(output, binary, direct) as out:
        if fmt in ("jsonl", "csv"):
            filters = Filters(site=site, since=start, until=end)
            fn = ex.export_jsonl if fmt == "jsonl" else ex.export_csv
            n = fn(s, out, filters, all_versions=all_versions)
            what = "versions" if all_versions else "articles"
        else:
            cf = ex.CaptureFilters(site=site, since=start, until=end)
            if fmt == "warc":
                from storage.warc import WarcStore

                store = WarcStore(Path(app.config.archive.warc_dir))
                n = ex.export_warc(s, store, out, cf, skipped=skipped)
            else:
                n = ex.export_cdxj(s, out, cf)
            what = "captures"
    if skipped:
        raise QueryError(
            f"exported {n} {what} as {fmt} to {output}, but skipped {len(skipped)} whose "
            f"WARC record is unreadable (first: {skipped[0]})"
        )
    click.echo(f"exported {n} {what} as {fmt} to {output}", err=True)


@contextmanager
def _open_output(output: str, binary: bool, direct: bool) -> Iterator[Any]:
    """stdout, a pipe written in place, or a temporary file renamed over `output` at the end."""
    if output == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    if direct:
        with open(output, "wb") if binary else open(output, "w", encoding="utf-8") as fh:
            yield fh
        return
    import os
    import tempfile

    path = Path(output)
    # Written beside (O_EXCL: never through a planted symlink), then renamed: an interrupted
    # export never looks complete, and a failed one leaves the old file as it was.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o644 & ~_umask())
        with open(fd, "wb") if binary else open(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


@click.command()
@_filter_options
@click.option(
    "--workers", type=click.IntRange(1, 256), help="Extraction processes (default: all cores)."
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a trafilatura option, e.g. favor_recall=true or prune_xpath=//aside "
    "(recorded in the extractor_id).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--batch-size", type=click.IntRange(1), hidden=True, help="Captures per commit.")
@pass_app
def reextract(
    app: AppContext,
    site: str | None,
    since: str | None,
    until: str | None,
    workers: int | None,
    dry_run: bool,
    options: tuple[str, ...],
    fmt: str,
    batch_size: int | None,
) -> None:
    """Re-run the current extractor over stored article captures (no network) and rebuild versions.

    --since/--until select captures by fetch time. Resumable (run it again after an
    interruption) and idempotent (a second run changes nothing).

    \b
    Example:
        newsarchive reextract --site ledger --since 2024-01-01 --dry-run
    """
    from crawler import reextract as rx

    start, end = _dates(since, until)
    try:
        opts = rx.parse_options(options)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    archive = app.archive(create=False)
    progress = _Progress(dry_run)
    try:
        report = rx.reextract(
            archive,
            app.config.archive.warc_dir,
            site=site,
            since=start,
            until=end,
            workers=workers,
            dry_run=dry_run,
            options=opts,
            batch_size=batch_size,
            progress=progress.update,
        )
    finally:
        progress.stop()
        archive.close()
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(report.format())


class _Progress:
    """A rich bar on a terminal (stderr); a plain line every 10% or 30 s otherwise."""

    def __init__(self, dry_run: bool) -> None:
        self.bar: Any = None
        self.task: Any = None
        self.last_line = 0.0
        self.last_share = -1
        self.label = "re-extracting (dry run)" if dry_run else "re-extracting"

    def update(self, done: int, total: int) -> None:
        if _is_tty(sys.stderr):
            if self.bar is None:
                from rich.console import Console
                from rich.progress import Progress

                self.bar = Progress(console=Console(stderr=True), transient=True)
                self.bar.start()
                self.task = self.bar.add_task(self.label, total=total)
            self.bar.update(self.task, completed=done, total=total)
            return
        share = done * 10 // total if total else 10
        now = time.monotonic()
        if share != self.last_share or now - self.last_line > 30:
            click.echo(f"{self.label}: {done}/{total} captures", err=True)
            self.last_share, self.last_line = share, now

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@click.command()
@click.option("--runs", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def stats(app: AppContext, runs: int, fmt: str) -> None:
    """Per site: articles, versions, the last crawl runs, and extraction health.

    Health over the last runs: share of article pages with an empty body, and of bodies
    without a date or authors. A jump in the newest run is flagged (layout change?).

    \b
    Example:
        newsarchive stats --runs 10
    """
    from storage.query import stats as run_stats

    with _reading(app) as s:
        result = [st.as_dict() for st in run_stats(s, last_runs=runs)]
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
        return
    if not result:
        click.echo("the archive is empty", err=True)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table("site", "articles", "versions", "pages", "empty body", "no date", "no authors")
    for st in result:
        h = st["health"]
        table.add_row(
            st["site"],
            str(st["articles"]),
            str(st["versions"]),
            str(h["pages"]),
            *(_pct(h[k]) for k in ("empty_body", "missing_date", "missing_authors")),
        )
    console.print(table)
    for st in result:
        for r in st["runs"]:
            h = r["health"]
            a = (r["stats"] or {}).get("articles", {})
            click.echo(
                f"{st['site']}: run {r['id']} {r['status']} {(r['started_at'] or '')[:16]}"
                f"  new {a.get('new', 0)} changed {a.get('changed', 0)}"
                f"  empty {_pct(h['empty_body'])} no-date {_pct(h['missing_date'])}"
                f" no-authors {_pct(h['missing_authors'])}"
            )
        for w in st["warnings"]:
            click.secho(f"warning: {st['site']}: {w}", fg="yellow", bold=True)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def register(cli: click.Group) -> None:
    """Attach these commands to the `newsarchive` group."""
    for command in (search, show, diff, export, reextract, stats):
        cli.add_command(command)
