"""Alembic environment: target_metadata = Base.metadata, batch mode on SQLite."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Engine, text

from storage.db import is_postgresql, is_sqlite, make_engine
from storage.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata

# Objects that live outside the ORM models on purpose: the FTS5 table and its shadow
# tables on SQLite, the generated tsvector column and its GIN index on PostgreSQL.
_UNMANAGED_PREFIXES = ("articles_fts",)
_UNMANAGED_NAMES = {"search_vector", "ix_articles_search", "apscheduler_jobs"}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if name is None:
        return True
    return not (name in _UNMANAGED_NAMES or name.startswith(_UNMANAGED_PREFIXES))


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations must not import the models: render our TypeDecorator as its impl.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        url = config.get_main_option("sqlalchemy.url") or "sqlite:///archive.db"
        engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=is_sqlite(connection),
            include_object=include_object,
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            if is_postgresql(connection):
                # Several workers may start on a fresh database at once: one migrates,
                # the others wait here and then find nothing left to do.
                connection.execute(text("SELECT pg_advisory_xact_lock(726173)"))
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
