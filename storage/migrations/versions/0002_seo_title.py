"""seo_title beside the on-page headline; both titles in full-text search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:20:00

Extraction rules na-3 keep the article's <h1> headline in `title` and the metadata title
(og:title, JSON-LD headline or <title>, without the site name) in `seo_title`. The
full-text index gains the new column, so it is rebuilt: SQLite's FTS5 table and its
triggers are recreated and refilled; PostgreSQL's generated tsvector is re-added (which
recomputes it for every row) with its GIN index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("extractions", "versions", "articles")
_TRIGGERS = ("articles_ai", "articles_ad", "articles_au")


def _sqlite_fts(columns: list[str]) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE articles_fts USING fts5({cols}, content='articles', "
        "content_rowid='id')",
        "CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN "
        f"INSERT INTO articles_fts (rowid, {cols}) VALUES (new.id, {new}); END",
        "CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN "
        f"INSERT INTO articles_fts (articles_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER articles_au AFTER UPDATE OF {cols} ON articles BEGIN "
        f"INSERT INTO articles_fts (articles_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {old}); "
        f"INSERT INTO articles_fts (rowid, {cols}) VALUES (new.id, {new}); END",
        "INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')",
    ]


def _pg_vector(with_seo_title: bool) -> list[str]:
    seo = " || setweight(to_tsvector('simple', coalesce(seo_title, '')), 'A')"
    return [
        "DROP INDEX IF EXISTS ix_articles_search",
        "ALTER TABLE articles DROP COLUMN IF EXISTS search_vector",
        "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
        "setweight(to_tsvector('simple', coalesce(text, '')), 'B')"
        + (seo if with_seo_title else "")
        + ") STORED",
        "CREATE INDEX ix_articles_search ON articles USING gin (search_vector)",
    ]


def _full_text(columns: list[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
        for sql in _sqlite_fts(columns):
            op.execute(sql)
    elif bind.dialect.name == "postgresql":
        for sql in _pg_vector("seo_title" in columns):
            op.execute(sql)


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("seo_title", sa.Text(), nullable=True))
    # title and text stay columns 0 and 1: search's bm25 weights and snippet() rely on it.
    _full_text(["title", "text", "seo_title"])


def downgrade() -> None:
    _full_text(["title", "text"])
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("seo_title")
