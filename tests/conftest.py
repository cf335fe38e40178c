"""Shared fixtures: archives on real SQLite files and on the local PostgreSQL.

PostgreSQL tests skip on a machine without it, but never when CI is set: there they fail.
Each test session gets its own PostgreSQL database, so parallel sessions do not collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get(
    "NEWSARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("NEWSARCHIVE_TEST_REDIS", "redis://127.0.0.1:6379/0")
IN_CI = bool(os.environ.get("CI"))
REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("NEWSARCHIVE_DATASETS", REPO.parent / "shared" / "datasets"))


def _unavailable(what: str, why: object) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required when CI is set, but unavailable: {why}")
    pytest.skip(f"{what} unavailable: {why}")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    try:
        import psycopg  # noqa: F401
        from sqlalchemy import create_engine, text
    except ImportError as exc:  # pragma: no cover
        _unavailable("psycopg", exc)
    name = f"na_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        _unavailable("PostgreSQL at " + PG_ADMIN_URL, exc)
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        if tables:
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty archive database URL: a SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    url: str = request.getfixturevalue("pg_database")
    from storage.db import Archive

    Archive(url).close()  # migrate once (cached per process), then empty every table
    _reset_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite archive URL in a temporary folder."""
    return f"sqlite:///{tmp_path / 'archive.db'}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis, flushed of newsarchive test keys; skip (or fail in CI) if down."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.ping()
        client.close()
    except Exception as exc:
        _unavailable("Redis at " + REDIS_URL, exc)
    return REDIS_URL


def dev_page_files(*datasets: str) -> list[Path]:
    """The stored pages (html/*.html.gz) of these data sets under DATASETS, in name order;
    the calling test fails under CI and skips elsewhere when there are none."""
    files = [f for name in datasets for f in sorted((DATASETS / name / "html").glob("*.html.gz"))]
    if not files:
        _unavailable(" and ".join(datasets), DATASETS)
    return files


def dev_page_text(path: Path) -> str:
    """One stored dev page, decoded as the extractor decodes it."""
    import gzip

    from crawler.extraction.decoding import decode_html

    return decode_html(gzip.decompress(path.read_bytes()), "text/html")[0]


@pytest.fixture(scope="session")
def benchmark_dataset() -> Path:
    """../shared/datasets/article-extraction-benchmark (read in place, never copied)."""
    path = DATASETS / "article-extraction-benchmark"
    if not (path / "ground-truth.json").exists():
        _unavailable("the article-extraction-benchmark dataset", path)
    return path
