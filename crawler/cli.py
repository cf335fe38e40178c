"""The `newsarchive` command: one function per command, its docstring is the help.

Domain errors become one line on stderr and a non-zero exit here, at the edge; nothing
below this module prints tracebacks for user mistakes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import click
from sqlalchemy.exc import DBAPIError

from crawler.config import Config, ConfigError, load_config
from storage.errors import StorageError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppContext:
    """What every command gets: the config (file + env + --db) and a lazily opened archive."""

    config_path: str | None
    db: str | None

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path, database_url=self.db)

    def archive(self, *, readonly: bool = False) -> Any:
        from storage.db import Archive

        return Archive(self.config.archive.database_url, readonly=readonly)


pass_app = click.make_pass_decorator(AppContext)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="NEWSARCHIVE_CONFIG",
    help="Config file (default: ./newsarchive.toml if present).",
)
@click.option("--db", help="Database URL; overrides the config file and NEWSARCHIVE_DATABASE_URL.")
@click.version_option(package_name="newsarchive")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db: str | None) -> None:
    """newsarchive: archive news sites into SQLite/PostgreSQL + WARC, versioned and searchable.

    \b
    Example:
        newsarchive demo
        newsarchive --config newsarchive.toml crawl example-news
    """
    ctx.obj = AppContext(config_path, db)


@cli.group()
def db() -> None:
    """Manage the archive database schema."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: AppContext) -> None:
    """Create or migrate the database to the newest schema.

    \b
    Example:
        newsarchive --db sqlite:///archive.db db upgrade
    """
    from storage.db import current_revision, make_engine, upgrade

    engine = make_engine(app.config.archive.database_url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"{url}: already at revision {after}")
    else:
        click.echo(f"{url}: migrated {before or 'empty database'} -> {after}")


def _register_commands() -> None:
    """Attach the commands that live in their own modules (keeps this file small)."""
    import importlib

    for module in (
        "crawler.cli_crawl",
        "crawler.cli_query",
        "crawler.cli_schedule",
        "crawler.cli_serve",
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        mod.register(cli)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn domain errors into one line."""
    try:
        cli.main(args=argv, prog_name="newsarchive", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (ConfigError, StorageError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)
    except DBAPIError as exc:  # the database is unreachable, read-only, locked, ...
        click.echo(f"error: database: {str(exc.orig).strip().splitlines()[0]}", err=True)
        sys.exit(1)
    except OSError as exc:  # a folder that cannot be created, a file that cannot be written
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main()
