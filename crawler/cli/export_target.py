"""Where `export -o` may write: a new file, a pipe or stdout; never the archive's own files."""

from __future__ import annotations

import stat
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from crawler.config import Config


def check_output(output: str, config: Config, *, force: bool) -> bool:
    """UsageError when `output` must not be written; True when it is written in place (a pipe).

    Allowed: ``-`` (stdout), a FIFO or character device such as /dev/null (written in place,
    never replaced), a new file, or with ``force`` an existing regular file (replaced
    atomically). Refused: the archive's database and its -wal/-shm/.lock companions, anything
    in the WARC folder, directories, block devices, sockets, and symlinks to files.
    """
    if output == "-":
        return False
    if not output.strip():
        raise click.UsageError("-o needs a file name, or - for stdout")
    path = Path(output)
    target = path.resolve()
    if _belongs_to_archive(target, config):
        raise click.UsageError(f"refusing to write {output}: it is part of the archive")
    try:
        st = path.stat()  # follows a symlink: what would actually be written
    except FileNotFoundError:
        if path.is_symlink():
            raise click.UsageError(f"refusing to write {output}: a dangling symlink") from None
        return False
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
        return True
    if path.is_symlink():
        raise click.UsageError(f"refusing to replace {output}: a symlink (give the real path)")
    if not stat.S_ISREG(st.st_mode):
        raise click.UsageError(f"refusing to write {output}: not a regular file or a pipe")
    if not force:
        raise click.UsageError(f"{output} exists: use --force to replace it")
    return False


def _belongs_to_archive(target: Path, config: Config) -> bool:
    warc_dir = Path(config.archive.warc_dir).expanduser().resolve()
    if target == warc_dir or target.is_relative_to(warc_dir):
        return True
    url = make_url(config.archive.database_url)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    db = Path(database).expanduser().resolve()
    own = {db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal", ".lock"))}
    return target in own
