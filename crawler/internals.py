"""The library internals newsarchive cannot avoid, in one place.

Scrapy has no public API to pause one host's download slot, to raise its delay at run
time, to fail the requests already queued in it, or to read the Crawl-delay of a robots.txt
its own middleware has parsed; Python's ProcessPoolExecutor cannot end a worker that hangs.
Each such use is one small function here, and tests/test_library_adapters.py pins every
attribute they touch, so a library upgrade that moves one fails there, by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def downloader(crawler: Any) -> Any:
    """The crawler's downloader (None before the engine starts)."""
    engine = getattr(crawler, "engine", None)
    return engine.downloader if engine is not None else None


def download_slot(crawler: Any, key: str) -> Any:
    """The download slot of `key` (host[:port]), if the downloader has opened one."""
    dl = downloader(crawler)
    return dl.slots.get(key) if dl is not None else None


def download_slots(crawler: Any) -> Iterator[Any]:
    """Every open download slot of the crawler."""
    dl = downloader(crawler)
    yield from list(getattr(dl, "slots", {}).values())


def raise_slot_delay(crawler: Any, key: str, delay: float) -> None:
    """At least `delay` seconds between requests to `key`, now and for a slot opened later."""
    dl = downloader(crawler)
    if dl is None:
        return
    settings = dict(dl.per_slot_settings.get(key, {}))
    settings["delay"] = max(float(settings.get("delay", 0.0)), delay)
    # No random spread: "jitter" since Scrapy 2.14 (read first), "randomize_delay" before.
    settings["jitter"] = 0.0
    settings["randomize_delay"] = False
    dl.per_slot_settings[key] = settings
    slot = dl.slots.get(key)
    if slot is not None:
        slot.delay = max(slot.delay, delay)
        if hasattr(slot, "jitter"):
            slot.jitter = 0.0
        else:
            slot.randomize_delay = False


def hold_slot_until(crawler: Any, key: str, until: float) -> None:
    """Send nothing to `key` before the monotonic time `until` (the slot waits lastseen+delay)."""
    slot = download_slot(crawler, key)
    if slot is None:
        return
    if not slot.delay:
        slot.delay = 0.001
    slot.lastseen = max(slot.lastseen, until - slot.delay)


def drain_slot(slot: Any) -> Iterator[tuple[Any, Any]]:
    """Take the (request, deferred) pairs waiting in a download slot's queue, never sent."""
    while slot is not None and slot.queue:
        yield slot.queue.popleft()


def robots_parser(crawler: Any, netloc: str) -> tuple[bool, Any]:
    """(RobotsTxtMiddleware is on, the parser it holds for netloc or None if not yet parsed)."""
    from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

    dl = downloader(crawler)
    if dl is None:
        return False, None
    for mw in dl.middleware.middlewares:
        if isinstance(mw, RobotsTxtMiddleware):
            return True, mw._parsers.get(netloc)
    return False, None


def terminate_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's worker processes: a running call cannot be cancelled otherwise."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()


# The characters trafilatura's repairs delete (its INVALID_XML_CHARS class, pinned equal by
# tests/test_library_adapters.py): C0 controls but tab, newline and carriage return, and the
# non-characters U+FFFE and U+FFFF.
_INVALID_XML_CHARS = tuple(map(chr, (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF)))


def repair_html(text: str, beginning: str) -> str:
    """trafilatura's repairs before parsing (control characters, a DOCTYPE with a slash, a
    self-closing <html/>), as its load_html applies them; `beginning` is text[:50].lower()."""
    from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, repair_faulty_html

    # Hardly a page holds one of those characters, and the regex that deletes them reads
    # the page a character at a time: 0.28 ms on the dev set's Latin-1 pages (100 kB on
    # average), 0.55 on the others (200 kB). Searching for each character on its own
    # (memchr, but for NUL in a wide string) costs 0.03 and 0.40 ms.
    if any(char in text for char in _INVALID_XML_CHARS):
        return repair_faulty_html(text, beginning)
    # Without them, repair_faulty_html's other repairs, as it writes them.
    if "doctype" in beginning:
        firstline, _, rest = text.partition("\n")
        text = DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in text[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            return FAULTY_HTML.sub(r"\1>", text, count=1)
    return text


def html_element_classes() -> dict[str, type]:
    """lxml.html's element classes by tag name (form, input, ...), as its parser assigns them."""
    from lxml.html import HtmlElementClassLookup

    return dict(HtmlElementClassLookup._default_element_classes)
