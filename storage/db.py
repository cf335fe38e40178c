"""Engine and session factory, SQLite pragmas, migrations on first use, dialect helpers."""

from __future__ import annotations

import ast
import fcntl
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import DatabaseError
from storage.redact import redact

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The schema the migrations leave in an empty SQLite database (render_sqlite_head writes it;
# tests/test_migrations.py pins it equal to Alembic's).
SQLITE_HEAD = MIGRATIONS_DIR / "sqlite_head.json"
SQLITE_BUSY_TIMEOUT_MS = 60_000


def _sqlite_connect_listener(readonly: bool) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that "begin" below decides.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        if readonly:
            cur.execute("PRAGMA query_only = ON")  # a reader can never write by mistake
        cur.close()

    return on_connect


def make_engine(url: str, *, readonly: bool = False, echo: bool = False) -> Engine:
    """Create an engine; on SQLite: WAL, busy_timeout, foreign keys, BEGIN IMMEDIATE writes.

    Writers take the database lock at the start of the transaction (BEGIN IMMEDIATE), so two
    processes never deadlock upgrading a read lock and wait on busy_timeout instead of
    failing with "database is locked". `readonly=True` engines use a deferred BEGIN so that
    readers never wait for, or block, the crawl.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseError(f"invalid database URL {redact(url)!r}") from None
    if "+" in parsed.drivername:
        try:
            parsed.get_dialect()
        except ArgumentError:  # NoSuchModuleError: e.g. postgresql+nosuchdriver
            raise DatabaseError(f"unknown database driver {parsed.drivername!r}") from None
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_connect_listener(readonly))
        begin = "BEGIN" if readonly else "BEGIN IMMEDIATE"

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs["pool_pre_ping"] = True
        try:
            return create_engine(parsed, **kwargs)
        except ModuleNotFoundError as exc:
            raise DatabaseError(
                f"PostgreSQL needs the postgres extra: pip install 'newsarchive[postgres]' ({exc})"
            ) from None
    raise DatabaseError(f"unsupported database {parsed.get_backend_name()!r}")


def _must_exist(url: str) -> None:
    """A mistyped --db for a read must not leave an empty archive behind."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return  # make_engine says what is wrong
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:") or Path(database).expanduser().is_file():
        return
    raise DatabaseError(f"no archive at {database} (create one with `db upgrade` or a crawl)")


def _bind(target: Engine | Session | Connection) -> Engine | Connection:
    return target.get_bind() if isinstance(target, Session) else target


def is_sqlite(target: Engine | Session | Connection) -> bool:
    """True when the engine (or the session's or connection's) talks to SQLite."""
    return _bind(target).dialect.name == "sqlite"


def is_postgresql(target: Engine | Session | Connection) -> bool:
    """True when the engine (or the session's or connection's) talks to PostgreSQL."""
    return _bind(target).dialect.name == "postgresql"


def dialect_of(target: Engine | Session | Connection) -> str:
    """The dialect name of the engine (or the session's or connection's): sqlite, postgresql."""
    return _bind(target).dialect.name


# The INSERT constructs with on_conflict_do_nothing/do_update, by dialect name.
DIALECT_INSERTS: dict[str, Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_for(engine_or_session: Engine | Session, table: Any) -> Any:
    """An INSERT that supports on_conflict_do_nothing/do_update on both dialects."""
    return DIALECT_INSERTS[dialect_of(engine_or_session)](table)


_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def alembic_config(engine: Engine | None = None) -> Any:
    """An Alembic Config pointing at storage/migrations (works installed or from a checkout)."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema to `revision` (idempotent)."""
    with _migration_lock(engine):
        _upgrade(engine, revision)


def _upgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    _check_not_newer(engine, current_revision(engine))
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise DatabaseError(f"cannot migrate {_shown(engine)}: {exc.orig}") from None


def migrate(engine: Engine) -> tuple[str | None, str | None]:
    """Upgrade to head under the migration lock; the revisions before and after."""
    with _migration_lock(engine):
        before = current_revision(engine)
        _upgrade(engine, "head")
        return before, current_revision(engine)


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes (PostgreSQL: env.py's lock).

    An exclusive flock on a sidecar file, ``<db>.lock``: not on the database itself, because
    closing any descriptor of that file would drop SQLite's own POSIX locks in this process.
    """
    database = engine.url.database if is_sqlite(engine) else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with open(Path(database).expanduser().with_name(Path(database).name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _check_not_newer(engine: Engine, at: str | None) -> None:
    """DatabaseError when the database was migrated by a newer newsarchive than this one."""
    if at is None:
        return
    from alembic.script import ScriptDirectory

    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if at not in known:
        raise DatabaseError(
            f"{_shown(engine)} is at schema revision {at!r}, newer than this newsarchive "
            f"knows (newest {head_revision()!r}): upgrade newsarchive"
        )


def current_revision(engine: Engine) -> str | None:
    """The schema revision stored in the database, or None for an empty one."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


_REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(.+?)\s*$", re.MULTILINE)


def _shipped_head() -> str | None:
    """The head revision read from the migration files' `revision` / `down_revision` lines,
    without importing Alembic; None when they do not name exactly one head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        try:
            revision, down = (
                ast.literal_eval(found["revision"]),
                ast.literal_eval(found.get("down_revision", "None")),
            )
        except (ValueError, SyntaxError):
            return None  # a computed or tuple revision: leave it to Alembic
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            return None
        revisions.add(revision)
        if down is not None:
            parents.add(down)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_shipped_head(engine: Engine) -> bool:
    """True when the database's alembic_version names the shipped head: a plain SELECT,
    so a crawl's start-up does not import Alembic and load its script directory."""
    head = _shipped_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError:  # no such table (an empty database), or it cannot be opened
        return False
    return [r[0] for r in rows] == [head]


def sqlite_schema(conn: Connection) -> list[str]:
    """The statements that rebuild this SQLite database's schema and migration revision:
    sqlite_master's, in creation order, without SQLite's own indexes and FTS5's shadow
    tables (their virtual table creates them), then the alembic_version rows."""
    tables = conn.exec_driver_sql("PRAGMA table_list").all()  # (schema, name, type, ...)
    shadow = {name for _schema, name, kind, *_ in tables if kind == "shadow"}
    rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master ORDER BY rowid").all()
    statements = [sql for name, sql in rows if sql and name not in shadow]
    for (revision,) in conn.exec_driver_sql("SELECT version_num FROM alembic_version"):
        statements.append(f"INSERT INTO alembic_version (version_num) VALUES ('{revision}')")
    return statements


def render_sqlite_head() -> str:
    """SQLITE_HEAD's text: the migrations run by Alembic on an empty SQLite database."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'head.db'}")
        try:
            upgrade(engine)
            with engine.connect() as conn:
                head = {"revision": current_revision(engine), "statements": sqlite_schema(conn)}
        finally:
            engine.dispose()
    return json.dumps(head, indent=1) + "\n"


def _create_sqlite_at_head(engine: Engine) -> bool:
    """Create an empty SQLite archive's schema from SQLITE_HEAD: what running the
    migrations would leave, without importing Alembic and running them one operation at a
    time (~0.12 s of CPU in a fresh crawl's start-up). False, with nothing done, for another
    database, one that is not empty, or a snapshot that is not of the shipped head."""
    if not is_sqlite(engine):
        return False
    head = json.loads(SQLITE_HEAD.read_text(encoding="utf-8"))
    if head["revision"] != _shipped_head():
        return False
    with _migration_lock(engine), engine.begin() as conn:
        if conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar():
            return False  # not empty (another process may have created it meanwhile)
        for sql in head["statements"]:
            conn.exec_driver_sql(sql)
    return True


def ensure_schema(engine: Engine) -> None:
    """Migrate on first use: cheap when already at head (checked once per process)."""
    key = engine.url.render_as_string(hide_password=True)
    with _migrate_lock:
        if key in _migrated:
            return
        try:
            if _at_shipped_head(engine) or _create_sqlite_at_head(engine):
                _migrated.add(key)
                return
        except OperationalError as exc:
            raise DatabaseError(f"cannot open database {key}: {exc.orig}") from None
        try:
            at = current_revision(engine)
        except OperationalError as exc:
            raise DatabaseError(f"cannot open database {key}: {exc.orig}") from None
        head = head_revision()
        if at != head:
            with _migration_lock(engine):
                at = current_revision(engine)  # another process may have migrated meanwhile
                if at is None and inspect(engine).has_table("articles"):
                    raise DatabaseError(f"{key} has tables but no migration history")
                if at != head:
                    _upgrade(engine, "head")
        _migrated.add(key)


class Archive:
    """An open archive database: engine + session factory, schema ensured."""

    def __init__(
        self, url: str, *, migrate: bool = True, readonly: bool = False, create: bool = True
    ) -> None:
        """`create=False`: DatabaseError instead of creating a SQLite file that is not there."""
        self.url = url
        if not create:
            _must_exist(url)
        self.engine = make_engine(url, readonly=readonly)
        if migrate:
            if readonly:  # migrating needs a writer, once per process
                writer = make_engine(url)
                try:
                    ensure_schema(writer)
                finally:
                    writer.dispose()
            else:
                ensure_schema(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions() as s, s.begin():
            yield s

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
