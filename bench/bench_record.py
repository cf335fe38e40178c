"""ingest.record() throughput (captures/s) into SQLite and PostgreSQL, by batch size.

Run: ``python -m bench.bench_record [--captures N] [--batches 1,10,100] [--quick]``.

Texts are realistic: each new article is ~600 words of sentences drawn from the ground-truth
bodies of the 181 article-extraction benchmark pages (read in place, never copied), so
simhashes differ as between real articles. The stream mixes 70% new articles, 20% unchanged
re-captures of an article already recorded and 10% edits (a sentence replaced). Each backend
and batch size starts from an empty database; only the record() calls and their commits are
timed. Writes bench/results/record.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sqlite3
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import create_engine, text

from storage.db import Archive
from storage.ingest import ensure_site, record
from storage.records import Capture, DatedValue, Extracted, PageKind

GROUND_TRUTH = Path("/work/shared/datasets/article-extraction-benchmark/ground-truth.json")
RESULTS = Path(__file__).parent / "results" / "record.md"
PG_ADMIN_URL = os.environ.get(
    "NEWSARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SITE = "bench"
T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
WORDS_PER_ARTICLE = 600
MIX = (("new", 0.7), ("unchanged", 0.2), ("edit", 0.1))
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class Op:
    """One capture to record and what the mix meant it to be."""

    kind: str
    capture: Capture
    extracted: Extracted


def load_sentences(path: Path = GROUND_TRUTH) -> list[str]:
    """Every sentence of the ground-truth article bodies, in data-set order."""
    truth = json.loads(path.read_text(encoding="utf-8"))
    sentences: list[str] = []
    for key in sorted(truth):
        body = truth[key].get("articleBody") or ""
        sentences += [s.strip() for s in _SENTENCE_END.split(body) if len(s.split()) >= 4]
    return sentences


def _article_text(rng: random.Random, sentences: list[str]) -> str:
    """~600 words of consecutive sentences from a random place, in paragraphs of five."""
    start = rng.randrange(len(sentences))
    out: list[str] = []
    words = 0
    i = start
    while words < WORDS_PER_ARTICLE:
        out.append(sentences[i % len(sentences)])
        words += len(out[-1].split())
        # Jump now and then, so no two articles share a long run of sentences.
        i = rng.randrange(len(sentences)) if rng.random() < 0.2 else i + 1
    return "\n\n".join(" ".join(out[k : k + 5]) for k in range(0, len(out), 5))


def build_ops(count: int, sentences: list[str], seed: int = 1) -> list[Op]:
    """``count`` captures in the 70/20/10 mix, deterministic for a seed."""
    rng = random.Random(seed)
    known: list[tuple[str, str, str]] = []  # (url, title, text) of recorded articles
    ops: list[Op] = []
    offset = 0
    for i in range(count):
        at = T0 + timedelta(seconds=30 * i)
        roll = rng.random()
        kind = "new" if not known or roll < MIX[0][1] else "unchanged"
        if known and roll >= MIX[0][1] + MIX[1][1]:
            kind = "edit"
        if kind == "new":
            url = f"https://news.example.com/2024/05/01/story-{i}/"
            body = _article_text(rng, sentences)
            title = body.split(".")[0][:90]
            known.append((url, title, body))
        else:
            j = rng.randrange(len(known))
            url, title, body = known[j]
            if kind == "edit":
                paras = body.split("\n\n")
                paras[rng.randrange(len(paras))] = sentences[rng.randrange(len(sentences))]
                body = "\n\n".join(paras)
                known[j] = (url, title, body)
        offset += 20_000
        capture = Capture(
            url=url,
            status=200,
            fetched_at=at,
            warc_file="bench.warc.gz",
            warc_offset=offset,
            warc_length=19_000,
            content_type="text/html; charset=utf-8",
            payload_digest=f"sha1:{uuid.UUID(int=rng.getrandbits(128)).hex}",
            page_kind=PageKind.ARTICLE,
            site=SITE,
        )
        extracted = Extracted(
            extractor_id="bench/1",
            title=title,
            text=body,
            authors=("Bench Writer",),
            published=DatedValue(T0, "json-ld"),
            language="en",
            categories=("bench",),
            canonical_url=url,
        )
        ops.append(Op(kind, capture, extracted))
    return ops


def run_once(url: str, ops: Sequence[Op], batch: int) -> tuple[float, float, Counter[str]]:
    """Record every op into the (empty) archive at ``url``, ``batch`` per transaction.

    Returns wall seconds, this process's CPU seconds (not the PostgreSQL server's), outcomes.
    """
    outcomes: Counter[str] = Counter()
    with Archive(url) as archive:
        with archive.session() as s:
            ensure_site(s, SITE, "Bench")
        start, cpu = time.perf_counter(), time.process_time()
        for first in range(0, len(ops), batch):
            with archive.session() as s:
                for op in ops[first : first + batch]:
                    outcomes[record(s, op.capture, op.extracted).outcome.value] += 1
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return elapsed, cpu, outcomes


def _pg_reset(url: str) -> None:
    """Empty every table but alembic_version, so the next run starts from nothing."""
    eng = create_engine(url)
    with eng.begin() as conn:
        tables = conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).all()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    eng.dispose()


def bench_postgres(
    ops: Sequence[Op], batches: Sequence[int]
) -> tuple[dict[int, tuple[float, float]], str]:
    """(captures/s, CPU ms per capture) per batch size in a temporary PostgreSQL database;
    and the server version."""
    name = f"na_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    rates: dict[int, tuple[float, float]] = {}
    try:
        with admin.connect() as conn:
            server = str(conn.scalar(text("SHOW server_version")))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        try:
            for batch in batches:
                Archive(url).close()  # migrate once, then empty
                _pg_reset(url)
                seconds, cpu, outcomes = run_once(url, ops, batch)
                rates[batch] = (len(ops) / seconds, 1000 * cpu / len(ops))
                print(
                    f"postgresql batch {batch}: {rates[batch][0]:.0f} captures/s {dict(outcomes)}"
                )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
    return rates, server


def bench_sqlite(
    ops: Sequence[Op], batches: Sequence[int]
) -> tuple[dict[int, tuple[float, float]], Counter[str]]:
    """(captures/s, CPU ms per capture) per batch size into a fresh SQLite file each; and the
    outcomes seen."""
    rates: dict[int, tuple[float, float]] = {}
    outcomes: Counter[str] = Counter()
    for batch in batches:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'archive.db'}"
            seconds, cpu, outcomes = run_once(url, ops, batch)
        rates[batch] = (len(ops) / seconds, 1000 * cpu / len(ops))
        print(f"sqlite batch {batch}: {rates[batch][0]:.0f} captures/s {dict(outcomes)}")
    return rates, outcomes


def main(argv: Sequence[str] | None = None) -> None:
    """Measure, print and write bench/results/record.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=2000)
    parser.add_argument("--batches", default="1,10,100")
    parser.add_argument("--quick", action="store_true", help="300 captures, a smoke run")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    count = 300 if args.quick else args.captures
    batches = [int(b) for b in args.batches.split(",")]

    load = os.getloadavg()
    sentences = load_sentences()
    ops = build_ops(count, sentences)
    words = sum(len((op.extracted.text or "").split()) for op in ops) / len(ops)
    mix = Counter(op.kind for op in ops)
    sqlite_rates, outcomes = bench_sqlite(ops, batches)
    pg_rates: dict[int, tuple[float, float]] = {}
    pg_note = "skipped (--no-postgres)"
    if not args.no_postgres:
        try:
            pg_rates, server = bench_postgres(ops, batches)
            pg_note = f"PostgreSQL {server} on 127.0.0.1 over TCP loopback"
        except Exception as exc:  # no server here: report SQLite alone, say why
            pg_note = f"unavailable: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            print(f"postgresql {pg_note}")

    lines = [
        "# ingest.record() throughput",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.bench_record"
        f" --captures {count} --batches {args.batches}`.",
        "",
        f"- machine: {os.cpu_count()} cores (`os.cpu_count()`), {platform.machine()},"
        " shared with other engineers' builds and tests while this ran (load average"
        f" {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at start)",
        f"- Python {platform.python_version()}, SQLAlchemy {version('sqlalchemy')},"
        f" SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL),"
        f" psycopg {version('psycopg')}",
        f"- PostgreSQL: {pg_note}",
        f"- input: {count} captures, {mix['new']} new articles / {mix['unchanged']} unchanged"
        f" re-captures / {mix['edit']} edits; {words:.0f} words per text on average, sentences"
        " from the article-extraction benchmark's ground truth",
        f"- outcomes recorded: {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}",
        "- timed: the record() calls and commits only (captures and extractions rows,"
        " article lookup, versions, diff size on edits, simhash clustering); a fresh database"
        " for each batch size",
        "",
        "| records per transaction | SQLite captures/s | SQLite CPU ms/capture |"
        " PostgreSQL captures/s | PostgreSQL client CPU ms/capture |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for batch in batches:
        sq = sqlite_rates[batch]
        pg = pg_rates.get(batch)
        pg_cells = f"{pg[0]:.0f} | {pg[1]:.1f}" if pg else "n/a | n/a"
        lines.append(f"| {batch} | {sq[0]:.0f} | {sq[1]:.1f} | {pg_cells} |")
    lines += [
        "",
        "CPU ms/capture is this benchmark process's own CPU time (time.process_time) over"
        " the timed loop: steadier than captures/s on a shared machine. captures/s x CPU"
        " ms/capture near 1000 means record() was CPU-bound in Python; well below means it"
        " waited (on fsync, on the PostgreSQL server, or on other work for the CPU).",
        "",
        "A crawl records through one archive writer thread that commits up to 64 jobs per"
        " transaction (crawler/writer.py): the batch-10 and batch-100 rows bound what that"
        " thread can absorb, and its CPU competes with the extraction workers (see crawl.md).",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
