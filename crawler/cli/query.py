"""Commands that read the archive: search, show, diff, stats.

Each command is a thin shell over storage.query; user mistakes (bad query, bad date,
unknown article) surface as QueryError / NotFound, which `crawler.cli.main` prints as one
line.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from crawler.cli import AppContext, pass_app
from crawler.cli.options import FORMATS, emit_rows, filter_options, is_tty, parse_dates, reading

MAX_OFFSET = 10**12  # far past any archive; larger overflows the databases' 64-bit OFFSET


@click.command()
@click.argument("query")
@filter_options
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

    start, end = parse_dates(since, until)
    filters = Filters(site=site, since=start, until=end, author=author, language=language)
    if page:
        offset = (page - 1) * limit
        if offset > MAX_OFFSET:
            raise click.BadParameter(f"page {page} of {limit} starts past hit {MAX_OFFSET}")
    with reading(app) as s:
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
        emit_rows(rows, fmt, list(rows[0]) if rows else ["id"])
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
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def show(app: AppContext, article: str, fmt: str) -> None:
    """Show one article (by id or any URL it was seen under) with all its versions.

    \b
    Example:
        newsarchive show 42
        newsarchive show https://news.example.com/2024/05/06/budget/ --format json
    """
    from storage.query import article_history

    with reading(app) as s:
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

    with reading(app) as s:
        d = run_diff(s, article, from_n, to_n)
    if not (color if color is not None else is_tty(sys.stdout)):
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

    with reading(app) as s:
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
    for command in (search, show, diff, stats):
        cli.add_command(command)
