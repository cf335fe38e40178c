"""newsarchive.toml -> typed, validated configuration.

Precedence for the database URL: `--db` > env NEWSARCHIVE_DATABASE_URL > the file > default.
With no file at all the defaults work: `sqlite:///archive.db` and a `warc/` folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import UTC, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from storage.durations import parse_duration, parse_every

DEFAULT_CONFIG_FILE = "newsarchive.toml"
ENV_DATABASE_URL = "NEWSARCHIVE_DATABASE_URL"
ENV_CONFIG = "NEWSARCHIVE_CONFIG"
DEFAULT_USER_AGENT = "newsarchive/0.1 (+https://github.com/newsarchive/newsarchive)"
DEFAULT_REVISIT = ("1h", "6h", "1d", "3d", "7d")


class ConfigError(Exception):
    """A configuration problem, phrased as one line naming the file, the key and the problem."""


def check_http_url(url: str) -> str:
    """`url` if it is http(s) with a host and a valid port; ValueError saying what is wrong."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"not a valid URL {url!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url!r}")
    if any(c.isspace() for c in url):
        raise ValueError(f"URL contains whitespace: {url!r}")
    return url


def check_database_url(url: str) -> str:
    """`url` if SQLAlchemy can parse it and it names SQLite or PostgreSQL (password hidden)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from storage.redact import redact

    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        raise ValueError(
            f"unsupported database URL {redact(url)!r} (use sqlite:/// or postgresql://)"
        )
    try:
        make_url(url)
    except (ArgumentError, ValueError) as exc:
        # make_url's own message repeats the URL, password included: say it without.
        why = "bad port" if "int()" in str(exc) else "cannot parse it"
        raise ValueError(f"invalid database URL {redact(url)!r}: {why}") from None
    return url


def check_cron(expr: str) -> str:
    """`expr` if APScheduler can build a trigger from it (5 fields, values in range)."""
    from apscheduler.triggers.cron import CronTrigger

    if len(expr.split()) != 5:
        raise ValueError(f"cron needs 5 fields (min hour day month weekday), got {expr!r}")
    try:
        CronTrigger.from_crontab(expr, timezone=UTC)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad cron {expr!r}: {exc}") from None
    return expr


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArchiveConfig(_Model):
    """The [archive] table."""

    database_url: str = "sqlite:///archive.db"
    warc_dir: str = "warc"
    user_agent: str = DEFAULT_USER_AGENT
    frontier: str | None = None
    warc_max_size_mb: Annotated[int, Field(gt=0)] = 1024
    max_response_mb: Annotated[float, Field(gt=0)] = 8.0
    download_timeout: Annotated[float, Field(gt=0)] = 30.0
    max_retry_after: Annotated[float, Field(ge=0)] = 300.0
    obey_robots: bool = True
    concurrency_per_domain: Annotated[int, Field(ge=1, le=64)] = 2
    download_delay: Annotated[float, Field(ge=0)] = 0.5
    autothrottle: bool = True
    extraction_workers: Annotated[int, Field(ge=0)] = 0  # 0 = one per CPU
    extraction_timeout: Annotated[float, Field(gt=0)] = 120.0  # seconds per page
    # Limits on what one page may make the crawl do (see crawler/limits.py, README "Safety").
    max_links_per_page: Annotated[int, Field(ge=1)] = 2000
    max_sitemap_depth: Annotated[int, Field(ge=0)] = 3
    max_header_kb: Annotated[float, Field(gt=0)] = 64.0

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        return check_database_url(v)

    @field_validator("frontier")
    @classmethod
    def _redis_frontier(cls, v: str | None) -> str | None:
        from storage.redact import redact

        if v is not None and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"frontier must be a redis:// URL, got {redact(v)!r}")
        if v is not None and v.startswith(("redis://", "rediss://")):
            from urllib.parse import urlsplit

            try:
                urlsplit(v).port  # noqa: B018 - raises ValueError on a bad port
            except ValueError:
                raise ValueError(f"bad port in {redact(v)!r}") from None
        return v


class SiteConfig(_Model):
    """One [[sites]] entry: a news site described as data."""

    key: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=200)]
    name: str | None = None
    start_urls: Annotated[list[str], Field(min_length=1)]
    allowed_domains: list[str] = []
    article_pattern: str | None = None
    max_pages: Annotated[int, Field(ge=1, le=10_000)] = 5
    schedule: str | None = None
    cron: str | None = None
    feeds: list[str] = []
    sitemaps: list[str] = []
    # With no feeds/sitemaps named: use the feeds category pages link and robots.txt sitemaps.
    auto_sources: bool = True
    revisit: list[str] = list(DEFAULT_REVISIT)
    concurrency: Annotated[int, Field(ge=1, le=64)] | None = None
    download_delay: Annotated[float, Field(ge=0)] | None = None
    time_limit: str = "1h"

    @field_validator("start_urls", "feeds", "sitemaps")
    @classmethod
    def _http_urls(cls, v: list[str]) -> list[str]:
        for url in v:
            check_http_url(url)
        return v

    @field_validator("article_pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {v!r}: {exc}") from exc
        return v

    @field_validator("revisit")
    @classmethod
    def _durations(cls, v: list[str]) -> list[str]:
        for item in v:
            parse_duration(item)
        return v

    @field_validator("time_limit")
    @classmethod
    def _time_limit(cls, v: str) -> str:
        parse_duration(v)
        return v

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str | None) -> str | None:
        if v is not None:
            parse_every(v)
        return v

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return check_cron(v) if v is not None else v

    @model_validator(mode="after")
    def _defaults(self) -> SiteConfig:
        if self.schedule and self.cron:
            raise ValueError("set either schedule or cron, not both")
        if not self.allowed_domains:
            from storage.urls import site_of

            # By default a site is its start URLs' registered domains (news.example.com ->
            # example.com): newsrooms put stories on sub-domains (blogs., sport., editions).
            # Hosts without a public suffix (loopback, localhost) stay host:port.
            hosts = sorted({site_of(u) for u in self.start_urls} - {""})
            object.__setattr__(self, "allowed_domains", hosts)
        return self

    @property
    def revisit_ladder(self) -> list[timedelta]:
        """The revisit delays after an article is first seen."""
        return [parse_duration(x) for x in self.revisit]

    @property
    def time_limit_seconds(self) -> float:
        """How long one crawl of this site may run before it is stopped."""
        return parse_duration(self.time_limit).total_seconds()


class Config(_Model):
    """The whole newsarchive.toml."""

    archive: ArchiveConfig = ArchiveConfig()
    sites: list[SiteConfig] = []
    source: str | None = None  # the file it came from, for messages

    @model_validator(mode="after")
    def _unique_keys(self) -> Config:
        seen: set[str] = set()
        for site in self.sites:
            if site.key in seen:
                raise ValueError(f"duplicate site key {site.key!r}")
            seen.add(site.key)
        return self

    def site(self, key: str) -> SiteConfig:
        """The site with this key, or ConfigError naming the known keys."""
        for site in self.sites:
            if site.key == key:
                return site
        known = ", ".join(s.key for s in self.sites) or "none configured"
        raise ConfigError(f"{self.source or 'config'}: no site {key!r} (known: {known})")

    def with_database_origin(self, url: str, origin: str) -> Config:
        """A copy with the database URL replaced; `origin` names where it came from."""
        data = self.archive.model_dump()
        data["database_url"] = url
        return self.model_copy(update={"archive": _validated_archive(data, origin)})


def _validated_archive(data: dict[str, Any], origin: str) -> ArchiveConfig:
    try:
        return ArchiveConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(origin, exc)) from None


def _one_line(origin: str, exc: ValidationError) -> str:
    """One line naming where the config came from, the key and the first problem."""
    err = exc.errors()[0]
    msg = str(err["msg"]).removeprefix("Value error, ")
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{origin}: {_locate(tuple(err['loc'])) or 'top level'}: {msg}{more}"


def _locate(loc: tuple[int | str, ...]) -> str:
    """Name a pydantic error location the way the TOML spells it: sites[2].max_pages."""
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int) and parts:
            parts[-1] = f"{parts[-1]}[{p}]"
        else:
            parts.append(str(p))
    return ".".join(parts)


def load_config(path: str | Path | None = None, *, database_url: str | None = None) -> Config:
    """Read and validate the config file; apply env and --db overrides.

    `path=None` looks for $NEWSARCHIVE_CONFIG, then ./newsarchive.toml; neither existing is
    fine (defaults). An explicit path that does not exist is an error.
    """
    explicit = path is not None or ENV_CONFIG in os.environ
    file = Path(path or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read: {exc}") from None
    elif explicit:
        raise ConfigError(f"{file}: no such config file")
    data["source"] = str(file) if file.exists() else None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(str(file), exc)) from None
    env_url = os.environ.get(ENV_DATABASE_URL)
    if env_url:
        config = config.with_database_origin(env_url, ENV_DATABASE_URL)
    if database_url:
        config = config.with_database_origin(database_url, "--db")
    return config
