"""SQLAlchemy 2.0 typed models: the archive's tables (see DESIGN.md, "Data model")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the archive stores aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str | None] = mapped_column(String(500))
    config: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "fire_time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str | None] = mapped_column(String(200), index=True)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    schedule_id: Mapped[str | None] = mapped_column(String(200))
    fire_time: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    stats: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None]


class CaptureRow(Base):
    __tablename__ = "captures"
    __table_args__ = (Index("ix_captures_warc", "warc_file", "warc_offset"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, index=True)
    final_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int]
    content_type: Mapped[str | None] = mapped_column(String(255))
    fetched_at: Mapped[datetime] = mapped_column(index=True)
    payload_digest: Mapped[str | None] = mapped_column(String(64))
    warc_file: Mapped[str] = mapped_column(String(500))
    warc_offset: Mapped[int] = mapped_column(BigInteger)
    warc_length: Mapped[int] = mapped_column(BigInteger)
    record_kind: Mapped[str] = mapped_column(String(20), default="response")
    revisit_of: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    page_kind: Mapped[str] = mapped_column(String(20), default="article")
    site: Mapped[str | None] = mapped_column(String(200), index=True)

    extractions: Mapped[list[Extraction]] = relationship(back_populates="capture")


class Extraction(Base):
    __tablename__ = "extractions"
    __table_args__ = (UniqueConstraint("capture_id", "extractor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), index=True)
    extractor_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="article")
    title: Mapped[str | None] = mapped_column(Text)
    seo_title: Mapped[str | None] = mapped_column(Text)  # og:title/<title>, beside the h1
    authors: Mapped[list[str] | None]
    published_at: Mapped[datetime | None]
    published_source: Mapped[str | None] = mapped_column(String(20))
    published_tz: Mapped[int | None] = mapped_column(Integer)  # page's UTC offset, minutes
    modified_at: Mapped[datetime | None]
    modified_source: Mapped[str | None] = mapped_column(String(20))
    modified_tz: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(20))
    categories: Mapped[list[str] | None]
    tags: Mapped[list[str] | None]
    description: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(Text)
    sitename: Mapped[str | None] = mapped_column(String(500))
    canonical_url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    text_hash: Mapped[str | None] = mapped_column(String(64))
    simhash: Mapped[int | None] = mapped_column(BigInteger)  # signed 64-bit view
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)

    capture: Mapped[CaptureRow] = relationship(back_populates="extractions")


class Article(Base):
    """One news article, whatever URL variants it was seen under.

    title/text/authors/... mirror the current version so that full-text search (FTS5
    external content `articles_fts`, PostgreSQL tsvector) and filters need no join.
    """

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_site_published", "site", "published_at"),
        Index("ix_articles_band0", "simhash_band0"),
        Index("ix_articles_band1", "simhash_band1"),
        Index("ix_articles_band2", "simhash_band2"),
        Index("ix_articles_band3", "simhash_band3"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(200), index=True)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    last_changed_at: Mapped[datetime]
    current_version: Mapped[int] = mapped_column(default=1)
    cluster_id: Mapped[int | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default="ok")
    title: Mapped[str | None] = mapped_column(Text)
    seo_title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str] | None]
    published_at: Mapped[datetime | None]
    modified_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(20))
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    # 16-bit bands of the simhash: two hashes within Hamming distance 3 share at least one.
    simhash_band0: Mapped[int | None]
    simhash_band1: Mapped[int | None]
    simhash_band2: Mapped[int | None]
    simhash_band3: Mapped[int | None]

    versions: Mapped[list[Version]] = relationship(
        back_populates="article", order_by="Version.n", cascade="all, delete-orphan"
    )
    urls: Mapped[list[ArticleUrl]] = relationship(back_populates="article")


class ArticleUrl(Base):
    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="urls")


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("article_id", "n"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    n: Mapped[int]
    extraction_id: Mapped[int] = mapped_column(ForeignKey("extractions.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    seo_title: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    change_kind: Mapped[str | None] = mapped_column(String(20))  # title|body|both|metadata
    chars_added: Mapped[int] = mapped_column(default=0)
    chars_removed: Mapped[int] = mapped_column(default=0)

    article: Mapped[Article] = relationship(back_populates="versions")
    extraction: Mapped[Extraction] = relationship()


class UrlState(Base):
    """Per-URL crawl state: conditional GET validators, revisit ladder, back-off."""

    __tablename__ = "url_state"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    site: Mapped[str | None] = mapped_column(String(200), index=True)
    page_kind: Mapped[str | None] = mapped_column(String(20))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_payload_digest: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[int | None]
    last_checked_at: Mapped[datetime | None]
    consecutive_errors: Mapped[int] = mapped_column(default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    revisit_step: Mapped[int] = mapped_column(default=0)
    unchanged_checks: Mapped[int] = mapped_column(default=0)


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime]
