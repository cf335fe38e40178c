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

    def archive(self, *, readonly: bool = False, create: bool | None = None) -> Any:
        """Open the archive; reads (and `create=False`) never create a missing SQLite file."""
        from storage.db import Archive

        url = self.config.archive.database_url
        return Archive(url, readonly=readonly, create=not readonly if create is None else create)


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
    from storage.db import make_engine, migrate

    engine = make_engine(app.config.archive.database_url)
    try:
        before, after = migrate(engine)
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
        "crawler.cli.crawl",
        "crawler.cli.query",
        "crawler.cli.export",
        "crawler.cli.reextract",
        "crawler.cli.schedule",
        "crawler.cli.serve",
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
    from storage.redact import redact_logs

    redact_logs()
    try:
        try:
            cli.main(args=argv, prog_name="newsarchive", standalone_mode=False)
        except SystemExit:
            from click.utils import PacifyFlushWrapper

            # Click turns a closed stdout (`| head`) into exit 1 after wrapping the streams;
            # the reader leaving early is not an error.
            if isinstance(sys.stdout, PacifyFlushWrapper):  # type: ignore[arg-type]
                _quiet_broken_pipe()
            raise
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "newsarchive"
        _fail(f"error: {exc.format_message()} (see {where} --help)", exc.exit_code)
    except click.ClickException as exc:
        _fail(f"error: {exc.format_message()}", exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (ConfigError, StorageError) as exc:
        _fail(f"error: {exc}", 2 if isinstance(exc, ConfigError) else 1)
    except DBAPIError as exc:  # the database is unreachable, read-only, locked, ...
        _fail(f"error: database: {_first_line(exc.orig)}", 1)
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as exc:  # a folder that cannot be created, a file that cannot be written
        _fail(f"error: {exc}", 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    _flush_or_quiet()


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _fail(message: str, code: int) -> None:
    """One line on stderr, passwords hidden, then exit `code`."""
    from storage.redact import redact

    # A hostile server's bytes may end up in a message: no control characters on a terminal.
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in " ".join(message.split()))
    click.echo(redact(line), err=True)
    sys.exit(code)


def _flush_or_quiet() -> None:
    """`newsarchive export -o - | head`: the reader left; that is not an error."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()


def _quiet_broken_pipe() -> None:
    import os

    # Python would report the pipe again when it flushes stdout at exit: point it nowhere.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
    sys.exit(0)


if __name__ == "__main__":
    main()
