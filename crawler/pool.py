"""What the extraction pool's worker processes run: extraction plus the text fingerprints.

Kept apart from crawler.pipelines on purpose: a worker unpickles a job by importing the
module of its function, and crawler.pipelines would pull Scrapy, SQLAlchemy and the
archive writer into every worker (about a second of CPU each, per crawl). This module
imports only the extractor and storage.fingerprints, which the forkserver preloads;
the pool's initializer lives here for the same reason.
"""

from __future__ import annotations

import dataclasses
import signal
from typing import Any

from storage import fingerprints
from storage.records import Extracted

# The forkserver imports these once; every worker forked from it starts warm. The crawl
# process itself imports none of them up front (see extract_with_fingerprints).
PRELOAD = [__name__, "crawler.lifeline", "crawler.extraction", "trafilatura.deduplication"]


def worker_initializer(crawl_pid: int) -> None:
    """Workers must not take the crawl's Ctrl-C (the parent decides when they stop), and
    must not outlive the crawl, however it dies."""
    from crawler import lifeline

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker's parent is the forkserver, not the crawl: watch the crawl itself. Once the
    # workers are gone, the forkserver and resource tracker see EOF and exit too.
    lifeline.watch(crawl_pid)


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
