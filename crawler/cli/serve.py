"""`newsarchive serve`: the read-only web UI and JSON API (crawler/web) under uvicorn."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import click

from crawler.cli import AppContext, pass_app


def next_fires_from_config(app: AppContext) -> Any:
    """Per site, the next scheduled crawl (from the job store, else the config); cached 30s."""
    from crawler.cli.schedule import job_specs
    from schedules.scheduler import list_schedule

    cache: dict[str, Any] = {"at": 0.0, "fires": {}}

    def fires() -> dict[str, str | None]:
        if time.monotonic() - cache["at"] < 30:
            return dict(cache["fires"])
        specs = job_specs(app.config, revisit_every=600)
        out: dict[str, str | None] = {}
        if specs:
            archive = app.archive(readonly=True)
            try:
                for entry in list_schedule(archive, specs):
                    if entry.kind != "crawl" or entry.next_fire is None:
                        continue
                    when = entry.next_fire.astimezone(UTC)
                    if out.get(entry.site) is None or when.isoformat() < str(out[entry.site]):
                        out[entry.site] = when.isoformat()
            finally:
                archive.close()
        cache.update(at=time.monotonic(), fires=out)
        return out

    return fires


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--token",
    envvar="NEWSARCHIVE_TOKEN",
    help="Required when binding a non-loopback address; every request must then carry it "
    "(?token=… once in a browser, or 'Authorization: Bearer …'). Env: NEWSARCHIVE_TOKEN.",
)
@pass_app
def serve(app: AppContext, host: str, port: int, token: str | None) -> None:
    """Browse the archive in a web browser: search, versions, diffs, captures, runs (read-only).

    Every page is also JSON (Accept: application/json, or the same path under /api/).

    \b
    Example:
        newsarchive --config newsarchive.toml serve --port 8080
        NEWSARCHIVE_TOKEN=s3cret newsarchive serve --host 0.0.0.0
    """
    try:
        import uvicorn

        from crawler.web import create_app
        from crawler.web.security import is_loopback
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"serve needs the web extra: pip install 'newsarchive[web]' ({exc.name} is missing)"
        ) from None
    if not is_loopback(host) and not token:
        raise click.UsageError(
            f"--host {host} is reachable from other machines: set --token (or NEWSARCHIVE_TOKEN)"
        )
    if token is not None and len(token) < 8:
        raise click.UsageError("--token must be at least 8 characters")
    config = app.config
    web = create_app(
        config.archive.database_url,
        warc_dir=config.archive.warc_dir,
        token=token,
        next_fires=next_fires_from_config(app),
    )
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"newsarchive: serving {config.archive.database_url.split('?')[0]} read-only on "
        f"http://{shown}:{port}/ ({datetime.now(UTC):%H:%M:%S} UTC; Ctrl-C stops)",
        err=True,
    )
    uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False)


def register(cli: click.Group) -> None:
    """Attach `serve` to the main group."""
    cli.add_command(serve)
