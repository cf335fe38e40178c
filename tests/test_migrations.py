"""Schema migrations: from an empty database to head, with no pending model changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from storage.db import (
    SQLITE_HEAD,
    Archive,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    render_sqlite_head,
    upgrade,
)
from storage.errors import DatabaseError


def test_upgrade_from_empty_database_then_alembic_check_is_clean(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {
            "articles",
            "versions",
            "captures",
            "extractions",
            "url_state",
            "leases",
            "crawl_runs",
            "sites",
            "article_urls",
        } <= tables
        if engine.dialect.name == "sqlite":
            assert "articles_fts" in tables
        command.check(alembic_config(engine))  # raises if the models differ from the schema
        upgrade(engine)  # idempotent
    finally:
        engine.dispose()


def test_sqlite_connections_use_wal_and_foreign_keys(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
    finally:
        engine.dispose()


def test_four_processes_opening_a_fresh_sqlite_archive_together_all_succeed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    cmd = [sys.executable, "-m", "crawler", "--db", url]
    commands = [[*cmd, "db", "upgrade"], [*cmd, "schedule", "list"]] * 2
    procs = [
        subprocess.Popen(c, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    for proc in procs:
        proc.stdout and proc.stdout.close()
        proc.stderr and proc.stderr.close()
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_a_database_newer_than_the_code_is_one_clear_error(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'fffffffffff'")
        with pytest.raises(DatabaseError, match="newer than this newsarchive"):
            upgrade(engine)
    finally:
        engine.dispose()


def _fresh_python(code: str) -> list[str]:
    """What `code` prints, run in a new interpreter (nothing imported yet), as words."""
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_an_archive_at_head_opens_without_loading_alembic(sqlite_url: str, tmp_path: Path) -> None:
    """A crawl's start-up checks the revision with one SELECT; Alembic loads only to migrate."""
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    probe = (
        "import sys; from storage.db import Archive, _shipped_head, head_revision\n"
        f"Archive({sqlite_url!r}).close()\n"
        "print('alembic' in sys.modules, _shipped_head() == head_revision())"
    )
    assert _fresh_python(probe) == ["False", "True"]


def test_the_sqlite_snapshot_is_what_the_migrations_leave() -> None:
    assert SQLITE_HEAD.read_text(encoding="utf-8") == render_sqlite_head(), (
        "the migrations changed: python -c 'from storage.db import SQLITE_HEAD, "
        "render_sqlite_head; SQLITE_HEAD.write_text(render_sqlite_head())'"
    )


def test_a_fresh_sqlite_archive_gets_alembics_schema_without_loading_alembic(
    tmp_path: Path,
) -> None:
    migrated, fresh = tmp_path / "migrated.db", tmp_path / "fresh.db"
    engine = make_engine(f"sqlite:///{migrated}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    probe = (
        "import sys; from storage.db import Archive\n"
        f"Archive('sqlite:///{fresh}').close()\n"
        "print('alembic' in sys.modules)"
    )
    assert _fresh_python(probe) == ["False"]
    schemas = []
    for path in (migrated, fresh):
        engine = make_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as conn:
                schemas.append(
                    conn.exec_driver_sql(
                        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
                    ).all()
                )
            assert current_revision(engine) == head_revision()
            command.check(alembic_config(engine))
        finally:
            engine.dispose()
    assert schemas[0] == schemas[1]


def test_an_archive_behind_head_is_still_migrated_on_open(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine, "0001")
        engine.dispose()
        Archive(sqlite_url).close()
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
