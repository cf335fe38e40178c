"""Facet counts for a search: computed beside the ranked page, and kept for a short while.

Counting every match by site, language and month costs about as much as ranking them,
so it runs in a second read-only session on another thread while the page of hits is
ranked (SQLite and psycopg release the GIL while they work), and the counts are reused
for a few seconds when the user pages or re-sorts the same query.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from storage import browse
from storage.db import Archive
from storage.search import Filters

Key = tuple[str, Filters]


class FacetCache:
    """Facets per (query, filters): started on demand, kept `ttl` seconds, at most `size`."""

    def __init__(self, archive: Archive, *, ttl: float = 30.0, size: int = 256) -> None:
        self.archive = archive
        self.ttl = ttl
        self.size = size
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="facets")
        self._lock = threading.Lock()
        self._done: OrderedDict[Key, tuple[float, dict[str, Any]]] = OrderedDict()

    def start(self, query: str, filters: Filters) -> Callable[[], dict[str, Any]]:
        """Begin counting (unless fresh counts are kept); call the result to wait for them."""
        key = (query, filters)
        with self._lock:
            kept = self._done.get(key)
            if kept is not None and time.monotonic() - kept[0] < self.ttl:
                self._done.move_to_end(key)
                counts = kept[1]
                return lambda: counts
        future: Future[dict[str, Any]] = self._pool.submit(self._count, query, filters)

        def wait() -> dict[str, Any]:
            counts = future.result()
            with self._lock:
                self._done[key] = (time.monotonic(), counts)
                while len(self._done) > self.size:
                    self._done.popitem(last=False)
            return counts

        return wait

    def _count(self, query: str, filters: Filters) -> dict[str, Any]:
        with self.archive.session() as s:
            return browse.facets(s, query, filters)

    def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
