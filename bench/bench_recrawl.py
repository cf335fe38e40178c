"""CPU of an unchanged incremental re-crawl next to the first crawl of the same site.

Run: ``python -m bench.bench_recrawl [--copies K] [--quick]``.

The bench site (bench/benchsite.py: 181 x K articles, 20 per category page) sends no
ETag or Last-Modified, so every category page comes back whole. Two `python -m crawler
crawl` processes in a row, no change in between: the first archives every article, the
second is the re-crawl. CPU is user + system time of each process tree (getrusage of
reaped children, so process start-up and the extraction workers are included). Writes
bench/results/recrawl.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.bench_crawl import CONFIG, TreeMemory, sample_tree
from bench.benchsite import BenchSite, load_pages, serve

RESULTS = Path(__file__).parent / "results" / "recrawl.md"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def crawl(config: Path, workdir: Path) -> tuple[float, float, str]:
    """(CPU seconds of the process tree, wall seconds, the summary line) of one crawl.

    The larger of two counts: reaped descendants (getrusage; misses extraction workers
    that their forkserver never waits for) and the live tree sampled from /proc every
    0.2 s (bench_crawl's sampler; misses the last 0.2 s of each process).
    """
    cmd = [sys.executable, "-m", "crawler", "--config", str(config), "crawl"]
    cpu, wall = _cpu(), time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir
    )
    tree, stop = TreeMemory(), threading.Event()
    sampler = threading.Thread(target=sample_tree, args=(proc.pid, tree, stop))
    sampler.start()
    output, _ = proc.communicate(timeout=1800)
    stop.set()
    sampler.join()
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed:\n{output[-3000:]}")
    return max(cpu, sum(tree.cpu.values())), wall, output.strip().splitlines()[-1]


def main(argv: Sequence[str] | None = None) -> None:
    """Crawl the bench site twice and write the CPU ratio to bench/results/recrawl.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="accepted; same as the default")
    args = parser.parse_args(argv)
    site = BenchSite(load_pages(), copies=args.copies)
    with tempfile.TemporaryDirectory() as tmp, serve(site) as running:
        workdir = Path(tmp)
        config = workdir / "newsarchive.toml"
        config.write_text(
            CONFIG.format(
                db=(workdir / "archive.db").as_posix(),
                warc=(workdir / "warc").as_posix(),
                start=running.start_url,
                max_pages=site.page_count + 1,
            ),
            encoding="utf-8",
        )
        first = crawl(config, workdir)
        served = running.requests_served
        again = crawl(config, workdir)
        served_again = running.requests_served - served
    ratio = again[0] / first[0]
    text = [
        "# Unchanged re-crawl vs first crawl (CPU)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{site.article_count} articles on {site.page_count} category pages, no validators "
        "sent by the server. CPU = user + system of the whole process tree, start-up included. "
        "The machine was shared with other jobs: figures are noisy.",
        "",
        "| run | CPU s | wall s | requests | summary |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| first crawl | {first[0]:.1f} | {first[1]:.1f} | {served} | {first[2]} |",
        f"| re-crawl | {again[0]:.1f} | {again[1]:.1f} | {served_again} | {again[2]} |",
        "",
        f"Re-crawl CPU / first crawl CPU: **{ratio:.2f}**.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))


if __name__ == "__main__":
    main()
