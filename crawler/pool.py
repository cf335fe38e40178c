"""The extraction pool, for the crawl and re-extraction alike, and what its workers run.

One path from stored bytes to an extraction: `extract_with_fingerprints` (extract(), then
the content hash and simhash) in worker processes forked from a forkserver that preloaded
the extractor, each ending with the process it works for (crawler.lifeline).

Kept apart from crawler.pipelines on purpose: a worker unpickles a job by importing the
module of its function, and crawler.pipelines would pull Scrapy, SQLAlchemy and the
archive writer into every worker (about a second of CPU each, per crawl). This module
imports only the extractor and storage.fingerprints, which the forkserver preloads;
the pool's initializer lives here for the same reason.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

from storage import fingerprints
from storage.records import Extracted

# The forkserver imports these once; every worker forked from it starts warm. The crawl
# process itself imports none of them up front (see extract_with_fingerprints).
PRELOAD = [__name__, "crawler.lifeline", "crawler.extraction", "trafilatura.deduplication"]


def new_pool(
    workers: int,
    setup: Callable[..., None] | None = None,
    setup_args: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A pool of `workers` extraction processes bound to this process's life.

    forkserver: forking a process that runs Twisted and SQLite threads is unsafe; the server
    imports the extractor once (PRELOAD) and every worker starts warm. `setup(*setup_args)`
    runs in each worker after the common initializer (re-extraction opens the WARC store).
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(),
        initializer=worker_initializer,
        initargs=(os.getpid(), setup, setup_args),
    )


def _context() -> multiprocessing.context.ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start_forkserver() -> None:
    """Start the pools' forkserver now, before the caller's own start-up.

    The forkserver imports the extractor (PRELOAD, a few hundred ms of CPU) before it
    forks a worker: started first, it does that on the other core while the crawl imports
    Scrapy and opens the archive, and the pool's workers are forked as soon as it asks.
    """
    _context()
    multiprocessing.forkserver.ensure_running()


def ready() -> int:
    """A no-op job: the worker that runs it has been forked and initialised."""
    return os.getpid()


def warm(pool: ProcessPoolExecutor, workers: int) -> None:
    """Start the forkserver and `workers` workers now, off the calling thread.

    The forkserver imports the extractor (PRELOAD) before it forks its first worker, and
    the first `submit` waits for that: done here, it overlaps the crawl's first fetches
    instead of stalling the event loop at the first article page.
    """

    def start() -> None:
        try:
            for future in [pool.submit(ready) for _ in range(workers)]:
                future.result()
        except Exception:  # a pool that cannot start fails loudly on its first real job
            return

    threading.Thread(target=start, name="pool-warm", daemon=True).start()


def worker_initializer(
    crawl_pid: int, setup: Callable[..., None] | None = None, setup_args: tuple[Any, ...] = ()
) -> None:
    """Workers must not take the crawl's Ctrl-C (the parent decides when they stop), and
    must not outlive the crawl, however it dies."""
    from crawler import lifeline

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker's parent is the forkserver, not the crawl: watch the crawl itself. Once the
    # workers are gone, the forkserver and resource tracker see EOF and exit too.
    lifeline.watch(crawl_pid)
    if setup is not None:
        setup(*setup_args)


def extract_with_fingerprints(*args: Any, **kwargs: Any) -> Extracted:
    """extract(), plus the content hash and simhash, computed in the worker process.

    Hashing a 20 kB text costs a few ms of CPU; done here it stays off the crawl process,
    whose one GIL serves the event loop and the archive writer.
    """
    # Imported on call: the crawl process imports this module for the function's name
    # only, and should not pay for importing trafilatura before its first request.
    from crawler.extraction import extract

    extracted = extract(*args, **kwargs)
    if not extracted.text:
        return extracted
    return dataclasses.replace(
        extracted,
        text_hash=fingerprints.content_hash(extracted.title, extracted.text),
        simhash=fingerprints.simhash(extracted.text) if extracted.has_body else None,
    )


# -- re-extraction: stored captures, read from WARC inside the worker ----------------------


@dataclasses.dataclass(frozen=True, slots=True)
class CaptureTask:
    """What a worker needs to re-extract one capture; small enough to pickle cheaply."""

    capture_id: int
    warc_file: str
    warc_offset: int
    url: str
    fetched_at: datetime
    status: int
    content_type: str | None
    feed_date: datetime | None


_reextract: dict[str, Any] = {}


def reextract_setup(warc_dir: str, options: Mapping[str, Any], extractor_id: str) -> None:
    """Worker setup for re-extraction: its WARC store, options and extractor id."""
    from storage.warc import WarcStore

    _reextract.update(store=WarcStore(warc_dir), options=dict(options), extractor_id=extractor_id)


def reextract_tasks(tasks: list[CaptureTask]) -> list[tuple[int, Extracted | None]]:
    """Read each capture from WARC and extract it as the crawl does (None: unreadable)."""
    from crawler.extraction import ExtractionHints
    from storage.warc import WarcReadError

    store, extractor_id = _reextract["store"], _reextract["extractor_id"]
    out: list[tuple[int, Extracted | None]] = []
    for task in tasks:
        try:
            record = store.read(task.warc_file, task.warc_offset)
        except WarcReadError:
            out.append((task.capture_id, None))
            continue
        result = extract_with_fingerprints(
            record.payload,
            task.url,
            task.fetched_at,
            status=task.status,
            content_type=task.content_type,
            hints=ExtractionHints(published=task.feed_date) if task.feed_date else None,
            options=_reextract["options"],
        )
        if result.extractor_id != extractor_id:
            result = dataclasses.replace(result, extractor_id=extractor_id)
        out.append((task.capture_id, result))
    return out
