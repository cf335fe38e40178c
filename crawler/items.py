"""Scrapy items, as dataclasses: what the spider hands to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.writer import CaptureFuture


@dataclass
class ArticlePage:
    """An article page fetched and captured; the pipeline extracts and records it."""

    url: str
    body: bytes
    site: str
    # Status, final URL, content type and fetch time are the capture's, once it resolves.
    capture: CaptureFuture
    feed_date: datetime | None = None
    request: Any = None  # the Request, so a shared frontier can mark it done


@dataclass
class StoredPage:
    """An article page captured by an earlier, interrupted crawl but never extracted.

    The pipeline re-extracts it from its WARC record instead of fetching it again.
    """

    capture_id: int
    url: str
    site: str
