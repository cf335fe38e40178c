"""`newsarchive export`: articles as jsonl/csv, original captures as WARC, a CDXJ index."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from crawler.cli import AppContext, pass_app
from crawler.cli.options import filter_options, is_tty, parse_dates, reading
from storage.errors import QueryError


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "warc", "cdxj"]), required=True)
@filter_options
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

    start, end = parse_dates(since, until)
    binary = fmt == "warc"
    if binary and output == "-" and is_tty(sys.stdout):
        raise click.UsageError("refusing to write gzipped WARC to a terminal: use -o FILE")
    direct = check_output(output, app.config, force=force)
    skipped: list[str] = []
    with reading(app) as s, _open_output(output, binary, direct) as out:
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


def register(cli: click.Group) -> None:
    """Attach the export command to the top-level group."""
    cli.add_command(export)
