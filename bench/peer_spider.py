"""The spider a user would write by hand: bench_crawl's peer (no WARC, no database).

Run by bench/bench_crawl.py as ``scrapy runspider bench/peer_spider.py -a start=URL
-s FEEDS=...``: follow the category pages, extract each article inline with trafilatura
(crawler.extraction's options, written out as a user would), one JSON line per article.
"""

from collections.abc import Iterator
from typing import Any

import scrapy
import trafilatura

OPTIONS: dict[str, Any] = {
    "favor_precision": True,
    "include_comments": False,
    "include_tables": True,
}


class PeerSpider(scrapy.Spider):
    """Category pages -> article pages -> {url, title, author, date, text}."""

    name = "peer"
    start_url = ""  # -a start_url=...

    async def start(self) -> Any:
        yield scrapy.Request(self.start_url)

    def parse(self, response: Any) -> Iterator[Any]:
        yield from response.follow_all(css="main article.post h2 a", callback=self.parse_article)
        yield from response.follow_all(css='link[rel="next"]')

    def parse_article(self, response: Any) -> Iterator[dict[str, Any]]:
        found = trafilatura.bare_extraction(
            response.text, url=response.url, with_metadata=True, **OPTIONS
        )
        doc: dict[str, Any] = found.as_dict() if found is not None else {}  # type: ignore[union-attr]
        yield {"url": response.url, **{k: doc.get(k) for k in ("title", "author", "date", "text")}}
