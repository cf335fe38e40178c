"""Web UI latency (p50/p95) through the ASGI app on a generated 100k-article SQLite archive.

Run: ``python -m bench.bench_web [--articles 100000] [--runs 20] [--quick]``.
Articles are bulk-inserted as in bench_search (FTS5 indexes them through its triggers);
the first 2,000 also get captures, extractions and two versions each, so their article
and diff pages show a real timeline. Each request goes through Starlette's TestClient
(routing, the read-only session, the queries, Jinja2 rendering), so the figures are what
`newsarchive serve` spends per page, minus the socket. Writes bench/results/web.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.bench_search import load

RESULTS = Path(__file__).parent / "results" / "web.md"
VERSIONED = 2000
SEARCHES: list[dict[str, str]] = [
    {"q": "council"},
    {"q": "council budget"},
    {"q": '"city council"'},
    {"q": "harbour OR bridge"},
    {"q": "zorbulax"},
    {"q": "budget -football"},
    {"q": "council", "sort": "date"},
    {"q": "council", "site": "site-03"},
    {"q": "election", "since": "2023-12"},
    {"q": "council", "page": "5"},
]


def add_versions(url: str, n: int) -> None:
    """Give articles 1..n a capture + extraction per version and two versions each."""
    from storage.db import Archive
    from storage.models import CaptureRow, Extraction, Version

    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    with Archive(url) as archive, archive.engine.begin() as conn:
        rows = conn.execute(text("SELECT id, title, text FROM articles WHERE id <= :n"), {"n": n})
        captures, extractions, versions = [], [], []
        for article_id, title, body in rows:
            for v in (1, 2):
                cid = (article_id - 1) * 2 + v
                at = t0 + timedelta(hours=v)
                captures.append(
                    {
                        "id": cid,
                        "url": f"https://bench.example/{article_id}",
                        "status": 200,
                        "content_type": "text/html",
                        "fetched_at": at,
                        "warc_file": "bench.warc.gz",
                        "warc_offset": cid * 1000,
                        "warc_length": 1000,
                        "record_kind": "response",
                        "page_kind": "article",
                    }
                )
                words = body if v == 2 else body.replace(" the ", " a ", 3)
                extractions.append(
                    {
                        "id": cid,
                        "capture_id": cid,
                        "extractor_id": "bench/1",
                        "state": "article",
                        "title": title,
                        "text": words,
                        "authors": ["A. Bench"],
                        "published_at": t0,
                        "published_source": "json-ld",
                        "created_at": at,
                    }
                )
                versions.append(
                    {
                        "article_id": article_id,
                        "n": v,
                        "extraction_id": cid,
                        "content_hash": f"{article_id}-{v}",
                        "title": title,
                        "first_seen_at": at,
                        "last_seen_at": at,
                        "change_kind": None if v == 1 else "body",
                        "chars_added": 0 if v == 1 else 9,
                        "chars_removed": 0 if v == 1 else 3,
                    }
                )
        conn.execute(insert(CaptureRow.__table__), captures)
        conn.execute(insert(Extraction.__table__), extractions)
        conn.execute(insert(Version.__table__), versions)
        conn.execute(text("UPDATE articles SET current_version = 2 WHERE id <= :n"), {"n": n})


def _timed(client: Any, path: str, params: dict[str, str] | None, runs: int) -> list[float]:
    out = []
    for i in range(runs + 1):
        t = time.perf_counter()
        r = client.get(path, params=params)
        elapsed = (time.perf_counter() - t) * 1000
        if r.status_code != 200:
            raise SystemExit(f"{path} {params}: HTTP {r.status_code}: {r.text[:200]}")
        if i:  # the first request warms caches
            out.append(elapsed)
    return out


def _p(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def measure(url: str, n: int, runs: int, samples: int) -> dict[str, tuple[float, float]]:
    """p50/p95 ms per search, and over a sample of article and diff pages."""
    from starlette.testclient import TestClient

    from crawler.web import create_app

    rng = random.Random(3)
    out: dict[str, tuple[float, float]] = {}
    with TestClient(create_app(url)) as client:
        out["/ (home)"] = _p(_timed(client, "/", None, runs))
        # Facet counts are kept 30 s per query (paging, re-sorting); measure without that,
        # as if every request were a new query, then paging with it.
        client.app.state.web.facets.ttl = 0  # type: ignore[attr-defined]
        every_search: list[float] = []
        for params in SEARCHES:
            times = _timed(client, "/search", params, runs)
            every_search += times
            out["/search " + " ".join(f"{k}={v}" for k, v in params.items())] = _p(times)
        out["**every search above**"] = _p(every_search)
        client.app.state.web.facets.ttl = 30  # type: ignore[attr-defined]
        paging = []
        for q in ("council", "harbour OR bridge", "election", "budget -football"):
            for page in range(1, 6):  # page 1 counts the facets, pages 2-5 reuse them
                t = time.perf_counter()
                client.get("/search", params={"q": q, "page": str(page)}).raise_for_status()
                paging.append((time.perf_counter() - t) * 1000)
        out["/search pages 1-5 of 4 queries, facets kept between pages"] = _p(paging)
        for label, ids in (
            ("/articles/{id} (2 versions)", rng.sample(range(1, VERSIONED + 1), samples)),
            ("/articles/{id} (no versions)", rng.sample(range(VERSIONED + 1, n + 1), samples)),
        ):
            times = [t for i in ids for t in _timed(client, f"/articles/{i}", None, 1)]
            out[label] = _p(times)
        ids = rng.sample(range(1, VERSIONED + 1), samples)
        diffs = [t for i in ids for t in _timed(client, f"/articles/{i}/diff", None, 1)]
        out["/articles/{id}/diff"] = _p(diffs)
        out["/runs"] = _p(_timed(client, "/runs", None, runs))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Generate the archive, measure, append a section to bench/results/web.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=20, help="requests per search after a warm-up")
    ap.add_argument("--samples", type=int, default=100, help="article pages measured")
    ap.add_argument("--quick", action="store_true", help="20k articles, 5 runs")
    args = ap.parse_args(argv)
    if args.quick:
        args.articles, args.runs, args.samples = 20_000, 5, 30
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        url = f"sqlite:///{Path(tmp) / 'web.db'}"
        loaded = load(url, args.articles)
        add_versions(url, VERSIONED)
        load_avg = os.getloadavg()[0]
        results = measure(url, args.articles, args.runs, args.samples)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## sqlite, {args.articles:,} articles ({when})",
        "",
        f"Loaded in {loaded:.0f} s. {platform.machine()}, os.cpu_count() = {os.cpu_count()}, "
        f"load average {load_avg:.1f} when measuring; {args.runs} requests per search after a "
        f"warm-up, {args.samples} different articles per article/diff row. Times are wall "
        "time per request through the ASGI app (Starlette TestClient), HTML responses.",
        "",
        "| request | p50 ms | p95 ms |",
        "|---|---:|---:|",
        *(f"| `{k}` | {p50:.1f} | {p95:.1f} |" for k, (p50, p95) in results.items()),
        "",
    ]
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Web UI latency\n\n`python -m bench.bench_web` (one section per run, appended). "
            "Targets from issue 15: search p95 < 300 ms, article page p95 < 100 ms at 100k "
            "articles on SQLite. The machine is shared with other engineers' test runs, so "
            "the figures are noisy and pessimistic.\n\n",
            encoding="utf-8",
        )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
