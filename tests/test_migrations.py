"""Schema migrations: from an empty database to head, with no pending model changes."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from storage.db import alembic_config, current_revision, head_revision, make_engine, upgrade


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
