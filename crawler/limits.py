"""Limits on what one page may make the crawl do (pure helpers, no Scrapy)."""

from __future__ import annotations

import re

_ANCHOR = re.compile(rb"<a[\s>]", re.IGNORECASE)


def cut_after_links(html: bytes, max_links: int) -> tuple[bytes, bool]:
    """The page up to its `max_links`-th `<a` tag, and whether it was cut.

    Parsing a page with 100k links takes seconds of the crawl's one event loop; cut first,
    with a scan that costs milliseconds, and parse only what will be used.
    """
    for n, match in enumerate(_ANCHOR.finditer(html), start=1):
        if n > max_links:
            return html[: match.start()], True
    return html, False


def header_bytes(headers: object) -> int:
    """Total size of a response's header names and values (Scrapy Headers or a dict)."""
    total = 0
    items = getattr(headers, "items", None)
    if items is None:
        return 0
    for name, values in items():
        if not isinstance(values, list):
            values = [values]
        for value in values:
            total += len(name) + len(value) + 4  # ": " and CRLF
    return total
