"""Search latency (p50/p95) on synthetic archives of 100k and 1M articles, SQLite and PostgreSQL.

Run: ``python -m bench.bench_search [--sizes 100000,1000000] [--backends sqlite,postgresql]``.
Articles are bulk-inserted straight into ``articles`` (the FTS5 triggers / the generated
tsvector column index them, as in a real archive); bodies are made of sentences drawn from
a Zipf-like vocabulary so that common and rare words behave as in news text. Each query of
a fixed mix runs several times after one warm-up; latency is wall time of
``storage.search.search`` including fetching the page of 20 hits. Writes
bench/results/search.md (appending one table per run of the script).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

RESULTS = Path(__file__).parent / "results" / "search.md"
PG_ADMIN = os.environ.get(
    "NEWSARCHIVE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SITES = [f"site-{i:02d}" for i in range(20)]
START = datetime(2022, 1, 1, tzinfo=UTC)
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("council", {}),
    ("council budget", {}),
    ('"city council"', {}),
    ("harbour OR bridge", {}),
    ("zorbulax", {}),  # a rare word
    ("budget -football", {}),
    ("council", {"sort": "date"}),
    ("council", {"site": "site-03"}),
    ("election", {"since": START + timedelta(days=700)}),
    ("minister vote", {"author": "tanaka"}),
]
COMMON = [
    "council",
    "budget",
    "city",
    "harbour",
    "bridge",
    "vote",
    "mayor",
    "river",
    "transport",
    "school",
    "hospital",
    "winter",
    "storm",
    "market",
    "energy",
    "prices",
    "tenants",
    "housing",
    "rail",
    "strike",
    "museum",
    "festival",
    "police",
    "court",
    "judge",
    "election",
    "minister",
    "farmers",
    "drought",
    "water",
    "supply",
    "library",
    "garden",
    "stadium",
    "airport",
    "football",
]


def _vocabulary(rng: random.Random) -> list[str]:
    syll = [
        "ka",
        "lo",
        "mi",
        "ne",
        "ru",
        "sa",
        "te",
        "vo",
        "zi",
        "bra",
        "cle",
        "dro",
        "fen",
        "gul",
        "hap",
        "jor",
        "kin",
        "lux",
        "mor",
        "pet",
    ]
    rare = {"".join(rng.choice(syll) for _ in range(rng.randint(2, 4))) for _ in range(30_000)}
    return COMMON + sorted(rare) + ["zorbulax"]


def _sentences(rng: random.Random, n: int = 20_000) -> list[str]:
    vocab = _vocabulary(rng)
    weights = [1 / (i + 1) for i in range(len(vocab))]  # Zipf: a few words are everywhere
    out = []
    for _ in range(n):
        words = rng.choices(vocab, weights, k=rng.randint(8, 20))
        if rng.random() < 0.05:
            words[:2] = ["city", "council"]
        out.append(" ".join(words).capitalize() + ".")
    return out


def rows(n: int, seed: int = 7) -> Iterator[list[dict[str, Any]]]:
    """Batches of synthetic article rows (about 150 words each)."""
    rng = random.Random(seed)
    sentences = _sentences(rng)
    names = [
        "Tanaka",
        "Costa",
        "Silva",
        "Fischer",
        "Roe",
        "Mensah",
        "Petrov",
        "Haddad",
        "Reyes",
        "Moreau",
    ]
    batch: list[dict[str, Any]] = []
    for i in range(n):
        when = START + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        batch.append(
            {
                "site": SITES[i % len(SITES)],
                "canonical_url": f"https://{SITES[i % len(SITES)]}.example/{i}",
                "first_seen_at": when,
                "last_seen_at": when,
                "last_changed_at": when,
                "current_version": 1,
                "status": "ok",
                "title": " ".join(rng.choices(sentences, k=1)).rstrip("."),
                "text": "\n\n".join(" ".join(rng.choices(sentences, k=3)) for _ in range(3)),
                "authors": [f"{rng.choice('ABCDEFGH')}. {rng.choice(names)}"],
                "published_at": when,
                "language": "en",
            }
        )
        if len(batch) == 5000:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A fresh, migrated archive URL on the backend; removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"na_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load(url: str, n: int) -> float:
    """Bulk-insert n articles; returns seconds taken (index building included)."""
    from storage.db import Archive
    from storage.models import Article

    start = time.perf_counter()
    with Archive(url) as archive:
        pg = archive.engine.dialect.name == "postgresql"
        with archive.engine.begin() as conn:
            if pg:  # building the GIN index once is much faster than growing it row by row
                conn.execute(text("DROP INDEX ix_articles_search"))
            for batch in rows(n):
                conn.execute(insert(Article.__table__), batch)
            if pg:
                conn.execute(
                    text("CREATE INDEX ix_articles_search ON articles USING gin (search_vector)")
                )
        with archive.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    return time.perf_counter() - start


def measure(url: str, runs: int) -> dict[str, tuple[float, float]]:
    """p50/p95 latency in ms per query."""
    from storage.db import Archive
    from storage.search import Filters, search

    out = {}
    with Archive(url, readonly=True) as archive:
        for q, opts in QUERIES:
            opts = dict(opts)
            sort = opts.pop("sort", "relevance")
            filters = Filters(**opts)
            times = []
            for i in range(runs + 1):
                with archive.session() as s:
                    t = time.perf_counter()
                    search(s, q, filters, sort=sort, limit=20)
                    if i:  # the first run warms caches
                        times.append((time.perf_counter() - t) * 1000)
            times.sort()
            label = q + "".join(f" [{k}={v if k != 'since' else 'date'}]" for k, v in opts.items())
            label += " [date order]" if sort == "date" else ""
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            out[label] = (statistics.median(times), p95)
    return out


def main() -> None:
    """Build each archive, measure, append results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    for n in [int(x) for x in args.sizes.split(",")]:
        for backend in args.backends.split(","):
            with database(backend) as url:
                took = load(url, n)
                result = measure(url, args.runs)
            all_p50 = statistics.median(v[0] for v in result.values())
            lines = [
                f"## {backend}, {n:,} articles",
                "",
                f"Loaded in {took:.0f} s (bulk insert + index). {platform.machine()}, "
                f"os.cpu_count() = {os.cpu_count()}, {args.runs} runs per query after a warm-up, "
                f"limit 20, measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
                "",
                "| query | p50 ms | p95 ms |",
                "|---|---:|---:|",
                *(f"| `{q}` | {p50:.1f} | {p95:.1f} |" for q, (p50, p95) in result.items()),
                f"| **median over queries** | {all_p50:.1f} | |",
                "",
            ]
            with RESULTS.open("a") as fh:
                fh.write("\n".join(lines) + "\n")
            print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
